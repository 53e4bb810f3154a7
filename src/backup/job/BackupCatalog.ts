/**
 * The backup catalog (`plexi_backups`, `plexi_backup_shards`, migration 0011): a backup's entry from the moment it
 * starts, each shard as soon as it is stored, and the signed manifest when it commits.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Effect, Option } from "effect"
import type { BackupEntry, BackupKind } from "../../../domain/Backup.ts"

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))

const entryOf = (row: any): BackupEntry => ({
  id: row.id,
  kind: row.kind,
  parent: row.parent,
  state: row.state,
  createdAt: Number(row.created_at),
  committedAt: num(row.committed_at),
  plaintextBytes: Number(row.plaintext_bytes),
  storedBytes: Number(row.stored_bytes),
  shards: Number(row.shards),
  rows: Number(row.rows),
  error: row.error
})

const columns = "id, kind, parent, state, created_at, committed_at, plaintext_bytes, stored_bytes, shards, rows, error"

export const start = (id: string, kind: BackupKind, parent: string | null, createdAt: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`INSERT INTO plexi_backups (id, kind, parent, state, created_at) VALUES (${id}, ${kind}, ${parent}, 'running', ${createdAt})`)

/** Records a stored shard and adds it to the entry's progress. */
export const recordShard = (id: string, shard: {
  readonly index: number
  readonly hash: string
  readonly plaintextBytes: number
  readonly storedBytes: number
  readonly replicas: number
}) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(Effect.zipRight(
      sql`INSERT INTO plexi_backup_shards (backup_id, idx, hash, plaintext_bytes, stored_bytes, replicas)
        VALUES (${id}, ${shard.index}, ${shard.hash}, ${shard.plaintextBytes}, ${shard.storedBytes}, ${shard.replicas})`,
      sql`UPDATE plexi_backups SET shards = shards + 1, plaintext_bytes = plaintext_bytes + ${shard.plaintextBytes},
        stored_bytes = stored_bytes + ${shard.storedBytes} WHERE id = ${id}`
    )))

export const commit = (id: string, manifest: string, committedAt: number, rows: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`UPDATE plexi_backups SET state = 'committed', manifest = ${manifest}, committed_at = ${committedAt}, rows = ${rows}
      WHERE id = ${id} AND state = 'running'`)

/** Marks a backup failed and forgets its shards (the caller removed them from the store). */
export const fail = (id: string, reason: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(Effect.zipRight(
      sql`UPDATE plexi_backups SET state = 'failed', error = ${reason.slice(0, 2000)}, shards = 0, plaintext_bytes = 0, stored_bytes = 0
        WHERE id = ${id} AND state = 'running'`,
      sql`DELETE FROM plexi_backup_shards WHERE backup_id = ${id}`
    )))

/** The shard hashes recorded for a backup, in index order. */
export const shardsOf = (id: string): Effect.Effect<ReadonlyArray<string>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(sql`SELECT hash FROM plexi_backup_shards WHERE backup_id = ${id} ORDER BY idx`, (rows) => rows.map((r) => String(r.hash))))

/** Every entry, newest first. */
export const list = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(sql.unsafe(`SELECT ${columns} FROM plexi_backups ORDER BY created_at DESC, id DESC`), (rows) => rows.map(entryOf)))

/** An entry and its signed manifest (none until it is committed). */
export const find = (id: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(sql.unsafe<any>(`SELECT ${columns}, manifest FROM plexi_backups WHERE id = $1`, [id]), (rows) =>
      rows.length === 0 ? Option.none() : Option.some({ entry: entryOf(rows[0]), manifest: rows[0].manifest as string | null })))

/** The newest committed entry (with its manifest), if any. */
export const latestCommitted = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(
    sql.unsafe<any>(`SELECT ${columns}, manifest FROM plexi_backups WHERE state = 'committed' ORDER BY created_at DESC, id DESC LIMIT 1`),
    (rows) => (rows.length === 0 ? Option.none() : Option.some({ entry: entryOf(rows[0]), manifest: String(rows[0].manifest) }))
  ))
