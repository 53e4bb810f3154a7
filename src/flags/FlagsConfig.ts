/**
 * Settings of the feature flags (FeatureFlags.ts), in the `ShardingConfig`
 * style: how often each node re-reads `plexi_feature_flags`, which bounds
 * how long a change takes to reach every node. README's configuration table
 * and docs/OPERATIONS.md ("Feature flags") list the same name.
 */
import { Config, Context, Duration } from "effect"
import { configLayers } from "../config/ConfigLayers.ts"
import { positiveDuration } from "../config/Settings.ts"

export interface FlagsConfigShape {
  /** How often a node re-reads the flags: a change made on another node is seen here within about this. */
  readonly refresh: Duration.Duration
}

export class FlagsConfig extends Context.Tag("plexichat/FlagsConfig")<FlagsConfig, FlagsConfigShape>() {}

export const defaults: FlagsConfigShape = { refresh: Duration.seconds(2) }

export const config: Config.Config<FlagsConfigShape> = Config.all({
  refresh: positiveDuration(
    "PLEXI_FLAGS_REFRESH",
    defaults.refresh,
    "How often each node re-reads the feature flags from the database (a change reaches every node within about this)."
  ).pipe(Config.validate({
    message: "PLEXI_FLAGS_REFRESH must be from 100 milliseconds to 10 minutes",
    validation: (d) => Duration.toMillis(d) >= 100 && Duration.toMillis(d) <= 600_000
  }))
})

export const { layer, layerFromEnv } = configLayers(FlagsConfig, defaults, config)
