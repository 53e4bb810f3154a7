/**
 * Keeps `plexichat_backup_last_success_timestamp_seconds` (BackupMetrics.ts) on every node: the catalog's newest
 * commit time, read at start and every 30 s (one indexed-free aggregate over a small table), so that whichever
 * node Prometheus scrapes reports it, not only the one that ran the job.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schedule } from "effect"
import { lastSuccess } from "../../observability/BackupMetrics.ts"

const refresh = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ at: string | null }>`SELECT max(committed_at)::text AS at FROM plexi_backups WHERE state = 'committed'`).pipe(
    Effect.map((rows) => lastSuccess.update(rows[0]?.at == null ? 0 : Number(rows[0].at) / 1000)),
    Effect.catchAll((e) => Effect.logDebug("backup metrics: the catalog could not be read", e))
  )

export const layer = Layer.scopedDiscard(Effect.forkScoped(Effect.repeat(refresh, Schedule.spaced("30 seconds"))))
