/**
 * The durable backup job's settings, in the `ShardingConfig` style (docs/BACKUPS.md#the-backup-job): how often the
 * node running the job singleton looks for a job to start or resume, how often progress is re-read for a follower,
 * and a test-only pause before each shard is stored (so that a test can kill the node mid-backup).
 */
import { Config, Context, Duration } from "effect"
import { configLayers } from "../../config/ConfigLayers.ts"
import { positiveDuration } from "../../config/Settings.ts"

export interface BackupJobConfigShape {
  readonly pollInterval: Duration.Duration
  readonly progressInterval: Duration.Duration
  readonly shardDelay: Duration.Duration
}

export class BackupJobConfig extends Context.Tag("plexichat/BackupJobConfig")<BackupJobConfig, BackupJobConfigShape>() {}

export const defaults: BackupJobConfigShape = {
  pollInterval: Duration.seconds(1),
  progressInterval: Duration.millis(500),
  shardDelay: Duration.zero
}

export const config: Config.Config<BackupJobConfigShape> = Config.all({
  pollInterval: positiveDuration("PLEXI_BACKUP_JOB_POLL", defaults.pollInterval, "How often the node running the backup job singleton looks for a job to start or resume."),
  progressInterval: positiveDuration("PLEXI_BACKUP_PROGRESS_INTERVAL", defaults.progressInterval, "How often a followed backup's progress is re-read and sent."),
  shardDelay: Config.duration("PLEXI_BACKUP_TEST_SHARD_DELAY").pipe(
    Config.withDefault(defaults.shardDelay),
    Config.withDescription("Tests only: a pause before each shard is stored, so that a test can stop a node mid-backup. Leave unset.")
  )
})

export const { layer, layerFromEnv } = configLayers(BackupJobConfig, defaults, config)
