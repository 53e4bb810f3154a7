/**
 * The cluster view's statements: the runners (`cluster_runners`, the
 * library's table) with the shards `plexi_shard_holders` records for each,
 * the entity counts, and the schema version (`plexi_migrations`).
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"

interface RunnerRow {
  readonly address: string
  readonly healthy: boolean
  readonly age_ms: string | number | null
  readonly shards: string | number
}

/** Every registered runner, with its heartbeat age and recorded shards (multi-node clusters only). */
export const runners = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql<RunnerRow>`SELECT r.address, r.healthy,
        (EXTRACT(EPOCH FROM (localtimestamp - r.last_heartbeat)) * 1000)::bigint AS age_ms,
        (SELECT count(*) FROM plexi_shard_holders h WHERE h.runner = r.address) AS shards
      FROM cluster_runners r ORDER BY r.address`,
    (rows) =>
      rows.map((row) => ({
        address: row.address,
        healthy: row.healthy,
        heartbeatAgeMs: Math.max(0, Number(row.age_ms ?? 0)),
        shards: Number(row.shards)
      }))
  )

interface CountRow {
  readonly accounts: string
  readonly disabled_accounts: string
  readonly channels: string
  readonly messages: string
  readonly active_sessions: string
  readonly schema_version: string | null
}

/**
 * Entity counts and the newest migration. Messages are counted exactly
 * (a scan of the primary key): fine for the sizes a status call is for; an
 * installation with hundreds of millions of messages pays a few seconds.
 */
export const counts = (sql: SqlClient.SqlClient, now: number) =>
  Effect.map(
    sql<CountRow>`SELECT
        (SELECT count(*) FROM plexi_accounts) AS accounts,
        (SELECT count(*) FROM plexi_accounts WHERE disabled_at IS NOT NULL) AS disabled_accounts,
        (SELECT count(*) FROM plexi_channels) AS channels,
        (SELECT count(*) FROM plexi_messages) AS messages,
        (SELECT count(*) FROM plexi_sessions WHERE revoked_at IS NULL AND expires_at > ${now}) AS active_sessions,
        (SELECT max(migration_id) FROM plexi_migrations) AS schema_version`,
    ([row]) => ({
      counts: {
        accounts: Number(row!.accounts),
        disabledAccounts: Number(row!.disabled_accounts),
        channels: Number(row!.channels),
        messages: Number(row!.messages),
        activeSessions: Number(row!.active_sessions)
      },
      schemaVersion: Number(row!.schema_version ?? 0)
    })
  )
