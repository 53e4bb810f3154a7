/**
 * What retention and garbage collection read from and change in the catalog (`plexi_backups`,
 * `plexi_backup_shards`, migration 0011).
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Effect } from "effect"
import type { RetainedEntry } from "./RetentionPolicy.ts"

/** Every running or committed entry (failed ones hold no shards). */
export const liveEntries: Effect.Effect<ReadonlyArray<RetainedEntry>, SqlError.SqlError, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    Effect.map(
      sql<{ id: string; kind: "full" | "incremental"; parent: string | null; state: "running" | "committed"; created_at: string }>`
        SELECT id, kind, parent, state, created_at::text FROM plexi_backups WHERE state IN ('running', 'committed')`,
      (rows) => rows.map((r) => ({ id: r.id, kind: r.kind, parent: r.parent, state: r.state, createdAt: Number(r.created_at) }))
    )
)

export interface References {
  /** Every shard hash recorded for a running or committed backup. */
  readonly hashes: ReadonlySet<string>
  /** The running backups and when each started (ms). */
  readonly running: ReadonlyArray<{ readonly id: string; readonly createdAt: number }>
}

/**
 * The shards the catalog references and the running backups, read by one statement, so in one snapshot: a backup
 * records a shard after storing it, and is `running` from before its first store, so a shard listed in a store
 * before this read is either referenced here, of a backup running here, or of none (failed, or deleted).
 */
export const references: Effect.Effect<References, SqlError.SqlError, SqlClient.SqlClient> = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(
    sql<{ k: "h" | "r"; v: string; at: string }>`
      SELECT 'r' AS k, id AS v, created_at::text AS at FROM plexi_backups WHERE state = 'running'
      UNION ALL
      SELECT DISTINCT 'h' AS k, s.hash AS v, '0' AS at FROM plexi_backup_shards s JOIN plexi_backups b ON b.id = s.backup_id
        WHERE b.state IN ('running', 'committed')`,
    (rows) => ({
      hashes: new Set(rows.filter((r) => r.k === "h").map((r) => r.v)),
      running: rows.filter((r) => r.k === "r").map((r) => ({ id: r.v, createdAt: Number(r.at) }))
    })
  ))

/**
 * Deletes the committed entries `ids` (their shard rows go with them) in one statement: a chain's entries go
 * together, the foreign key from a child to its parent checked at the statement's end. Gives the ids deleted.
 */
export const deleteCommitted = (ids: ReadonlyArray<string>) =>
  ids.length === 0
    ? Effect.succeed<ReadonlyArray<string>>([])
    : Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.map(
        sql<{ id: string }>`DELETE FROM plexi_backups WHERE id IN ${sql.in(ids)} AND state = 'committed' RETURNING id`,
        (rows): ReadonlyArray<string> => rows.map((r) => r.id)
      ))
