/**
 * Settings of the node's logging, in the `ShardingConfig` style: a tag,
 * `defaults`, a validated `config` read from the environment, `layer(options)`
 * and `layerFromEnv(options)`. A level that is not one of Effect's labels is
 * a start-up error naming the variable. README's configuration table lists
 * the same name.
 *
 * runtime/main.ts reads it before it builds the node, so the level applies
 * to everything the node logs, start-up included.
 */
import { Config, Context, Effect, Layer, LogLevel } from "effect"
import { logLevel } from "../src/config/Settings.ts"

export interface LogConfigShape {
  /** The minimum level logged; lower levels are dropped. */
  readonly level: LogLevel.LogLevel
}

export class LogConfig extends Context.Tag("plexichat/LogConfig")<LogConfig, LogConfigShape>() {}

export const defaults: LogConfigShape = { level: LogLevel.Info }

export const config: Config.Config<LogConfigShape> = Config.all({
  level: logLevel("PLEXI_LOG_LEVEL", defaults.level, "Minimum log level: All, Trace, Debug, Info, Warn, Error, Fatal or Off (any case).")
})

/** The settings given (defaults for the rest). */
export const layer = (options?: Partial<LogConfigShape>): Layer.Layer<LogConfig> =>
  Layer.succeed(LogConfig, { ...defaults, ...options })

/** The settings from the environment, with `options` on top; an invalid one stops the node naming its variable. */
export const layerFromEnv = (options?: Partial<LogConfigShape>): Layer.Layer<LogConfig> =>
  Layer.effect(LogConfig, Effect.map(Effect.orDie(config), (c) => ({ ...c, ...options })))
