/**
 * Point-in-time restore (docs/BACKUPS.md#point-in-time-restore): the chain applied up to the first backup made at or
 * after T, then the rows whose event time is after T left out: messages by `created_at`, audit rows by `at`. The
 * audit head is set to the newest audit row kept, so the restored chain verifies.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** The event time column of each table whose rows are filtered by T. */
export const eventTimeColumns: Readonly<Record<string, string>> = { plexi_messages: "created_at", plexi_audit_log: "at" }

/** The backups of a chain (oldest first, each with its `createdAt`) a restore to `until` applies. */
export const upTo = <A extends { readonly createdAt: number }>(chain: ReadonlyArray<A>, until: number | undefined): ReadonlyArray<A> => {
  if (until === undefined) return chain
  const last = chain.findIndex((b) => b.createdAt >= until)
  return last === -1 ? chain : chain.slice(0, last + 1)
}

/** After a filtered restore: the audit head names the newest audit row kept (or the empty chain's zeros). */
export const settleAuditHead = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [present] = yield* sql<{ ok: boolean }>`SELECT to_regclass('plexi_audit_head') IS NOT NULL AND to_regclass('plexi_audit_log') IS NOT NULL AS ok`
  if (present?.ok !== true) return
  yield* sql`UPDATE plexi_audit_head SET
    seq = coalesce((SELECT max(seq) FROM plexi_audit_log), 0),
    hash = coalesce((SELECT hash FROM plexi_audit_log ORDER BY seq DESC LIMIT 1), ${"0".repeat(64)})`
})
