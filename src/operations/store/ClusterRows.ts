/**
 * The cluster view's statements: the runners (`cluster_runners`, the
 * library's table) with the shards `plexi_shard_holders` records for each
 * and the release `plexi_node_releases` records for each,
 * the entity counts, and the schema version (`plexi_migrations`).
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"

interface ReleaseRow {
  readonly package_version: string | null
  readonly protocol_version: string | null
  readonly started_at: string | number | null
}

interface RunnerRow extends ReleaseRow {
  readonly address: string
  readonly healthy: boolean
  readonly age_ms: string | number | null
  readonly shards: string | number
}

/** The recorded release, when there is one. */
const releaseOf = (row: ReleaseRow) =>
  row.package_version === null || row.protocol_version === null
    ? {}
    : { release: { packageVersion: row.package_version, protocolVersion: row.protocol_version, startedAt: Number(row.started_at ?? 0) } }

/** Every registered runner, with its heartbeat age, recorded shards and release (multi-node clusters only). */
export const runners = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql<RunnerRow>`SELECT r.address, r.healthy,
        (EXTRACT(EPOCH FROM (localtimestamp - r.last_heartbeat)) * 1000)::bigint AS age_ms,
        (SELECT count(*) FROM plexi_shard_holders h WHERE h.runner = r.address) AS shards,
        v.package_version, v.protocol_version, v.started_at
      FROM cluster_runners r LEFT JOIN plexi_node_releases v ON v.node = r.address ORDER BY r.address`,
    (rows) =>
      rows.map((row) => ({
        address: row.address,
        healthy: row.healthy,
        heartbeatAgeMs: Math.max(0, Number(row.age_ms ?? 0)),
        shards: Number(row.shards),
        ...releaseOf(row)
      }))
  )

/** The release a single node recorded under its node id (none: `{}`). */
export const singleRelease = (sql: SqlClient.SqlClient, nodeId: string) =>
  Effect.map(
    sql<ReleaseRow>`SELECT package_version, protocol_version, started_at FROM plexi_node_releases WHERE node = ${nodeId}`,
    ([row]) => (row === undefined ? {} : releaseOf(row))
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
