/**
 * Settings of a node's lifecycle (readiness and graceful shutdown), in the
 * `ShardingConfig` style: a tag, `defaults`, a validated `config` read from
 * the environment, `layer(options)` and `layerFromEnv(options)`.
 * docs/OPERATIONS.md ("Stopping a node", "Health and readiness") describes them.
 */
import { Config, Context, Duration } from "effect"
import { configLayers } from "../src/config/ConfigLayers.ts"
import { positiveDuration } from "../src/config/Settings.ts"

export interface LifecycleConfigShape {
  /** After SIGTERM the process exits by then, stopped or not (exit code 1 if not). */
  readonly shutdownDeadline: Duration.Duration
  /** How long `/api/v1/ready` waits for the database's `SELECT 1` before it answers `database_unreachable`. */
  readonly readyDbTimeout: Duration.Duration
}

export class LifecycleConfig extends Context.Tag("plexichat/LifecycleConfig")<LifecycleConfig, LifecycleConfigShape>() {}

export const defaults: LifecycleConfigShape = {
  // Below Docker's default grace period (10 s) before its SIGKILL, so that the node's own deadline comes first.
  shutdownDeadline: Duration.seconds(8),
  readyDbTimeout: Duration.seconds(1)
}

export const config: Config.Config<LifecycleConfigShape> = Config.all({
  shutdownDeadline: positiveDuration(
    "PLEXI_SHUTDOWN_DEADLINE",
    defaults.shutdownDeadline,
    "After SIGTERM the node exits within this, even if its graceful stop has not finished (then with exit code 1)."
  ),
  readyDbTimeout: positiveDuration(
    "PLEXI_READY_DB_TIMEOUT",
    defaults.readyDbTimeout,
    "How long the readiness check waits for the database to answer SELECT 1."
  )
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(LifecycleConfig, defaults, config)
