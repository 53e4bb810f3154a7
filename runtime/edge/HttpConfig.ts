/**
 * Settings of the node's HTTP doors (`/api/v1`, `/rpc`), in the
 * `ShardingConfig` style: a tag, `defaults`, a validated `config` read from
 * the environment, `layer(options)` and `layerFromEnv(options)`. The README's
 * configuration table lists the same names. (The per-user request budget,
 * `PLEXI_API_RATE_*`, is cluster-wide: `src/api/UserBudgetConfig.ts`.)
 */
import { Config, Context } from "effect"
import { configLayers } from "../../src/config/ConfigLayers.ts"
import { positiveInteger } from "../../src/config/Settings.ts"

export interface HttpSettings {
  /** The most bytes a request body may have; larger bodies get 413. */
  readonly maxBodyBytes: number
  /** The most bytes of header names and values a request may have; more get 431. */
  readonly maxHeaderBytes: number
  /** The deepest nesting of arrays and objects a JSON request body may have; deeper gets 400. */
  readonly maxJsonDepth: number
}

export class HttpConfig extends Context.Tag("plexichat/HttpConfig")<HttpConfig, HttpSettings>() {}

export const defaults: HttpSettings = {
  maxBodyBytes: 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxJsonDepth: 32
}

export const config: Config.Config<HttpSettings> = Config.all({
  maxBodyBytes: positiveInteger(
    "PLEXI_HTTP_MAX_BODY_BYTES",
    defaults.maxBodyBytes,
    "The most bytes a REST or RPC request body may have; larger bodies get 413 PayloadTooLarge."
  ),
  maxHeaderBytes: positiveInteger(
    "PLEXI_HTTP_MAX_HEADER_BYTES",
    defaults.maxHeaderBytes,
    "The most bytes of header names and values a request may have; more get 431 HeadersTooLarge (uWS drops the connection past about 64 KiB anyway)."
  ),
  maxJsonDepth: positiveInteger(
    "PLEXI_HTTP_MAX_JSON_DEPTH",
    defaults.maxJsonDepth,
    "The deepest nesting of arrays and objects a JSON request body may have; deeper gets 400."
  )
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(HttpConfig, defaults, config)
