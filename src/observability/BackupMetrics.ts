/**
 * The backup metrics (docs/OPERATIONS.md, "Metrics"): the newest committed backup's commit time, which every node
 * exports (read from the catalog every 30 s and at each commit it makes: the `PlexiBackupFailing` alert's input),
 * and the backup jobs that failed on this node (cancellations not counted).
 */
import { counterHook, gaugeHook } from "./MetricHooks.ts"

export const lastSuccess = gaugeHook(
  "plexichat_backup_last_success_timestamp_seconds",
  "Commit time of the newest committed backup in the catalog, in seconds since the epoch (0: none yet)"
)

export const failures = counterHook("plexichat_backup_failures_total", "Backup jobs that failed on this node (a cancellation is not counted)")
