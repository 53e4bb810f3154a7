/**
 * The backup shard stores' settings, in the `ShardingConfig` style: where this node keeps its shards, how many nodes
 * hold each shard, how long one call to another node's store may take, and how often the repair and scrub passes run.
 */
import { Config, Context, Duration, Option } from "effect"
import * as path from "node:path"
import { configLayers } from "../../config/ConfigLayers.ts"
import { integerAtLeast, optionalText, positiveDuration } from "../../config/Settings.ts"

/**
 * `dir`: none means `<PLEXI_DATA_DIR>/shards`; `replicas`: fewer when fewer nodes are live (with a warning);
 * `callTimeout`: one call to another node's store (a 1 MiB shard each way); `repairInterval`, `scrubInterval`: the
 * cluster singleton's passes.
 */
export const config = Config.all({
  dir: optionalText(
    "PLEXI_BACKUP_SHARD_DIR",
    "This node's backup shard directory (default <PLEXI_DATA_DIR>/shards); may be on another disk."
  ),
  replicas: integerAtLeast("PLEXI_BACKUP_REPLICAS", 1, 2, "How many distinct live nodes hold each backup shard."),
  callTimeout: positiveDuration(
    "PLEXI_BACKUP_SHARD_TIMEOUT",
    Duration.seconds(30),
    "The longest one call to another node's shard store may take before that copy counts as failed."
  ),
  repairInterval: positiveDuration(
    "PLEXI_BACKUP_REPAIR_INTERVAL",
    Duration.minutes(5),
    "How often shards held by fewer than PLEXI_BACKUP_REPLICAS live nodes are copied again."
  ),
  scrubInterval: positiveDuration(
    "PLEXI_BACKUP_SCRUB_INTERVAL",
    Duration.hours(24),
    "How often every copy of every shard is read and checked against its hash, and bad copies repaired."
  )
})

export type ShardStoreConfigShape = Config.Config.Success<typeof config>

export class ShardStoreConfig extends Context.Tag("plexichat/ShardStoreConfig")<ShardStoreConfig, ShardStoreConfigShape>() {}

/** The defaults of `config`, for `layer(options)`. */
export const defaults: ShardStoreConfigShape = {
  dir: Option.none(),
  replicas: 2,
  callTimeout: Duration.seconds(30),
  repairInterval: Duration.minutes(5),
  scrubInterval: Duration.hours(24)
}

/** The shard directory: the configured one, else `shards` under the node's data directory. */
export const shardDir = (config: ShardStoreConfigShape, dataDir: string) =>
  Option.getOrElse(config.dir, () => path.join(dataDir, "shards"))

export const { layer, layerFromEnv } = configLayers(ShardStoreConfig, defaults, config)
