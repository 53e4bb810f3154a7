/**
 * How the durable job reads its snapshot so that a resumed attempt, in a new snapshot, regenerates the chunks it
 * already stored byte for byte when the data did not change (docs/BACKUPS.md#the-backup-job):
 *
 * - `plexi_messages` (append-only, by far the biggest, no foreign key) comes first, in key order
 *   (`channel_id, seq`), and a resumed attempt cuts it at the first snapshot's per-channel high-water marks, so
 *   that its rows regenerate identically whatever was posted since;
 * - every other table follows, parents first as before (the audit log in `seq` order): they are small, so a kill
 *   in the messages leaves them to the resumed attempt's own snapshot, and a change in one already stored shows
 *   as a changed chunk.
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { HighWater, RowFilter, SnapshotLayout } from "../snapshot/Snapshot.ts"
import { afterHighWater } from "../snapshot/Incremental.ts"
import { coveredTablePredicate } from "../snapshot/SnapshotTables.ts"

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

/** The messages at or below `highWater`'s per-channel marks. */
const upToHighWater = (highWater: HighWater): RowFilter => (table) =>
  table.name === "plexi_messages"
    ? `seq <= coalesce((${literal(JSON.stringify(highWater.channelSeq))}::jsonb ->> channel_id)::bigint, 0)`
    : undefined

/** An incremental's lower bound (its parent's marks) and, on a resumed attempt, the first snapshot's upper bound. */
export const jobFilter = (parent: HighWater | null, own: HighWater | null): RowFilter => {
  const lower = parent === null ? undefined : afterHighWater(parent)
  const upper = own === null ? undefined : upToHighWater(own)
  return (table) => {
    const conditions = [lower?.(table), upper?.(table)].filter((c): c is string => c !== undefined)
    return conditions.length === 0 ? undefined : conditions.map((c) => `(${c})`).join(" AND ")
  }
}

export const jobLayout: SnapshotLayout = {
  order: (table) => (table.name === "plexi_messages" ? "channel_id, seq" : table.name === "plexi_audit_log" ? "seq" : undefined),
  arrange: (tables) => [...tables.filter((t) => t.name === "plexi_messages"), ...tables.filter((t) => t.name !== "plexi_messages")]
}

/** The marks a resumed attempt's manifest carries: the first snapshot's messages, its own snapshot's audit log. */
export const effectiveHighWater = (first: HighWater | null, now: HighWater): HighWater =>
  first === null ? now : { auditSeq: now.auditSeq, channelSeq: first.channelSeq }

/** The covered tables' heap size in bytes: the progress estimate of a backup's plaintext. */
export const estimateBytes = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql.unsafe<{ bytes: string }>(`SELECT coalesce(sum(pg_relation_size(c.oid)), 0)::text AS bytes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${coveredTablePredicate}`),
    (rows) => Number(rows[0]?.bytes ?? 0)
  )
