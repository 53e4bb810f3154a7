/**
 * Settings of the revocation feed (src/auth/Revocations.ts), in the
 * `ShardingConfig` style: how often a node on Postgres polls
 * `plexi_revocations`, and how long a missing `seq` is awaited. README's
 * configuration table and docs/SECURITY.md list the same names.
 */
import { Config, Context, Duration } from "effect"
import { configLayers } from "../config/ConfigLayers.ts"
import { positiveDuration } from "../config/Settings.ts"

export interface RevocationConfigShape {
  /** How often a node on Postgres reads new revocations (a revocation reaches every node within about this). */
  readonly pollInterval: Duration.Duration
  /** How long a hole in the table's `seq` is awaited before the node reads past it (a rolled-back insert never fills). */
  readonly gapTimeout: Duration.Duration
}

export class RevocationConfig extends Context.Tag("plexichat/RevocationConfig")<RevocationConfig, RevocationConfigShape>() {}

export const defaults: RevocationConfigShape = {
  pollInterval: Duration.millis(250),
  gapTimeout: Duration.seconds(10)
}

export const config: Config.Config<RevocationConfigShape> = Config.all({
  pollInterval: positiveDuration(
    "PLEXI_AUTH_REVOCATION_POLL_INTERVAL",
    defaults.pollInterval,
    "How often a node on Postgres reads new revocations (ended sessions, disabled accounts) from the database."
  ).pipe(Config.validate({
    message: "PLEXI_AUTH_REVOCATION_POLL_INTERVAL must be from 10 milliseconds to 1 minute",
    validation: (d) => Duration.toMillis(d) >= 10 && Duration.toMillis(d) <= 60_000
  })),
  gapTimeout: Config.succeed(defaults.gapTimeout)
})

export const { layer, layerFromEnv } = configLayers(RevocationConfig, defaults, config)
