/**
 * Settings of the node's HTTP doors (`/api/v1`, `/rpc`), in the
 * `ShardingConfig` style: a tag, a validated `config` read from the
 * environment, `layer(options)` and `layerFromEnv`. The README's
 * configuration table lists the same names.
 */
import { Config, ConfigError, Context, Either, Layer } from "effect"

export interface HttpSettings {
  /** The most bytes a request body may have; larger bodies get 413. */
  readonly maxBodyBytes: number
  /** The deepest nesting of arrays and objects a JSON request body may have; deeper gets 400. */
  readonly maxJsonDepth: number
  /** REST and typed-RPC requests per second per user on one node (token bucket refill rate). */
  readonly apiRateLimit: number
  /** Token bucket size per user for the same requests. */
  readonly apiRateBurst: number
}

export class HttpConfig extends Context.Tag("plexichat/HttpConfig")<HttpConfig, HttpSettings>() {}

export const defaults: HttpSettings = {
  maxBodyBytes: 1024 * 1024,
  maxJsonDepth: 32,
  apiRateLimit: 50,
  apiRateBurst: 200
}

/** A setting that must be a positive number; anything else is a start-up error naming the variable. */
const positive = (config: Config.Config<number>, name: string, integer: boolean) =>
  Config.mapOrFail(config, (value) =>
    value > 0 && Number.isFinite(value) && (!integer || Number.isInteger(value))
      ? Either.right(value)
      : Either.left(ConfigError.InvalidData([name], `${name} must be a positive ${integer ? "integer" : "number"}, got ${value}`)))

export const config: Config.Config<HttpSettings> = Config.all({
  maxBodyBytes: positive(
    Config.integer("PLEXI_HTTP_MAX_BODY_BYTES").pipe(
      Config.withDefault(defaults.maxBodyBytes),
      Config.withDescription("The most bytes a REST or RPC request body may have; larger bodies get 413 PayloadTooLarge.")
    ),
    "PLEXI_HTTP_MAX_BODY_BYTES",
    true
  ),
  maxJsonDepth: positive(
    Config.integer("PLEXI_HTTP_MAX_JSON_DEPTH").pipe(
      Config.withDefault(defaults.maxJsonDepth),
      Config.withDescription("The deepest nesting of arrays and objects a JSON request body may have; deeper gets 400.")
    ),
    "PLEXI_HTTP_MAX_JSON_DEPTH",
    true
  ),
  apiRateLimit: positive(
    Config.number("PLEXI_API_RATE_LIMIT").pipe(
      Config.withDefault(defaults.apiRateLimit),
      Config.withDescription("REST and typed-RPC requests per second per user on one node (sustained).")
    ),
    "PLEXI_API_RATE_LIMIT",
    false
  ),
  apiRateBurst: positive(
    Config.number("PLEXI_API_RATE_BURST").pipe(
      Config.withDefault(defaults.apiRateBurst),
      Config.withDescription("REST and typed-RPC requests a user may make in a burst on one node (token bucket size).")
    ),
    "PLEXI_API_RATE_BURST",
    false
  )
})

/** Fixed settings (tests); unset fields take the defaults. */
export const layer = (options?: Partial<HttpSettings>): Layer.Layer<HttpConfig> =>
  Layer.succeed(HttpConfig, { ...defaults, ...options })

/** The settings read from the environment; an invalid one stops the node at start. */
export const layerFromEnv: Layer.Layer<HttpConfig, ConfigError.ConfigError> = Layer.effect(HttpConfig, config)
