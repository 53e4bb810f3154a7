/**
 * Settings of backup retention and shard garbage collection (docs/BACKUPS.md#retention-and-gc), in the
 * `ShardingConfig` style. Retention is off unless PLEXI_BACKUP_KEEP_FULL or PLEXI_BACKUP_KEEP_INCREMENTAL is set;
 * garbage collection of unreferenced shards runs on every PLEXI_BACKUP_GC_INTERVAL in the maintenance singleton.
 */
import { Config, Context, Duration, Option } from "effect"
import { configLayers } from "../../config/ConfigLayers.ts"
import { positiveDuration } from "../../config/Settings.ts"

const count = (name: string, min: number, description: string) =>
  Config.option(Config.integer(name).pipe(
    Config.validate({ message: `${name} must be a whole number of at least ${min}`, validation: (n) => n >= min })
  )).pipe(Config.withDescription(description))

export const config = Config.all({
  keepFull: count("PLEXI_BACKUP_KEEP_FULL", 1, "Keep the newest N committed full backups (and their chains); unset: keep every full backup."),
  keepIncremental: count(
    "PLEXI_BACKUP_KEEP_INCREMENTAL",
    0,
    "Keep the newest M committed incrementals of the kept chains (and every older link they need); unset: keep them all."
  ),
  gcGrace: positiveDuration(
    "PLEXI_BACKUP_GC_GRACE",
    Duration.hours(24),
    "A backup `running` for less than this holds back shard garbage collection; an older one counts as dead."
  ),
  gcInterval: positiveDuration(
    "PLEXI_BACKUP_GC_INTERVAL",
    Duration.hours(1),
    "How often the maintenance singleton applies retention (when set) and removes shards no backup references."
  )
})

export type RetentionConfigShape = Config.Config.Success<typeof config>

export class RetentionConfig extends Context.Tag("plexichat/BackupRetentionConfig")<RetentionConfig, RetentionConfigShape>() {}

export const defaults: RetentionConfigShape = {
  keepFull: Option.none(),
  keepIncremental: Option.none(),
  gcGrace: Duration.hours(24),
  gcInterval: Duration.hours(1)
}

/** Whether a retention policy is set at all. */
export const retentionOn = (c: RetentionConfigShape) => Option.isSome(c.keepFull) || Option.isSome(c.keepIncremental)

export const { layer, layerFromEnv } = configLayers(RetentionConfig, defaults, config)
