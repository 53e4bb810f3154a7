/**
 * What an incremental backup carries (docs/BACKUPS.md#incremental-backups): of the append-only tables only the rows
 * after its parent's high-water marks (messages by per-channel `seq`, the audit log by `seq`); every other covered
 * table whole, since its rows change in place (a renamed user, a member who left). A restore appends the former and
 * replaces the latter.
 */
import type { HighWater, RowFilter } from "./Snapshot.ts"

export const appendOnlyTables: ReadonlyArray<string> = ["plexi_messages", "plexi_audit_log"]

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

/** The row filter of an incremental whose parent reached `highWater`. */
export const afterHighWater = (highWater: HighWater): RowFilter => (table) => {
  if (table.name === "plexi_messages") {
    return `seq > coalesce((${literal(JSON.stringify(highWater.channelSeq))}::jsonb ->> channel_id)::bigint, 0)`
  }
  if (table.name === "plexi_audit_log") return `seq > ${Math.trunc(highWater.auditSeq)}`
  return undefined
}
