/**
 * Settings of the node's logging, in the `ShardingConfig` style: a tag,
 * `defaults`, a validated `config` read from the environment, `layer(options)`
 * and `layerFromEnv(options)`. A level that is not one of Effect's labels is
 * a start-up error naming the variable. README's configuration table lists
 * the same name.
 *
 * runtime/main.ts reads it before it builds the node, so the level and the
 * format (runtime/telemetry/NodeLogger.ts) apply to everything the node
 * logs, start-up included.
 */
import { Config, Context, LogLevel } from "effect"
import { configLayers } from "../src/config/ConfigLayers.ts"
import { logLevel } from "../src/config/Settings.ts"

/** `pretty`: Effect's pretty lines (the default); `json`: one JSON object a line (telemetry/NodeLogger.ts). */
export type LogFormat = "pretty" | "json"

export interface LogConfigShape {
  /** The minimum level logged; lower levels are dropped. */
  readonly level: LogLevel.LogLevel
  readonly format: LogFormat
}

export class LogConfig extends Context.Tag("plexichat/LogConfig")<LogConfig, LogConfigShape>() {}

export const defaults: LogConfigShape = { level: LogLevel.Info, format: "pretty" }

export const config: Config.Config<LogConfigShape> = Config.all({
  level: logLevel(
    "PLEXI_LOG_LEVEL",
    defaults.level,
    "Minimum log level: All, Trace, Debug, Info, Warn, Error, Fatal or Off (any case)."
  ),
  format: Config.literal("pretty", "json")("PLEXI_LOG_FORMAT").pipe(
    Config.withDefault(defaults.format),
    Config.withDescription("Log line format: pretty (the default) or json (one object a line, with nodeId, traceId and spanId).")
  )
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(LogConfig, defaults, config)
