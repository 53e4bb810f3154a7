/**
 * What browsers may do with this node: the origins allowed to call the HTTP
 * API cross-origin (CORS), the origins allowed to open a WebSocket besides
 * the node's own, and whether the node is served behind TLS (HSTS). In the
 * `ShardingConfig` style: a tag, `defaults`, a validated `config` read from
 * the environment, `layer(options)` and `layerFromEnv(options)`. The
 * README's configuration table and docs/SECURITY.md list the same names.
 */
import { Config, Context, Duration } from "effect"
import { configLayers } from "../../src/config/ConfigLayers.ts"
import { flag, originList, positiveDuration } from "../../src/config/Settings.ts"

export interface HardeningSettings {
  /** Origins that get `Access-Control-Allow-Origin`; none (the default): CORS is closed. */
  readonly corsAllowedOrigins: ReadonlyArray<string>
  /** How long a browser may cache a preflight answer (`Access-Control-Max-Age`, whole seconds). */
  readonly corsMaxAge: Duration.Duration
  /** Origins allowed to open a WebSocket besides the node's own (same-origin: the Origin's host is the Host). */
  readonly wsAllowedOrigins: ReadonlyArray<string>
  /** The node is reached over HTTPS (TLS ends here or at a proxy in front): answers carry `Strict-Transport-Security`. */
  readonly behindTls: boolean
  /** `max-age` of `Strict-Transport-Security` (whole seconds). */
  readonly hstsMaxAge: Duration.Duration
}

export class HardeningConfig extends Context.Tag("plexichat/HardeningConfig")<HardeningConfig, HardeningSettings>() {}

export const defaults: HardeningSettings = {
  corsAllowedOrigins: [],
  corsMaxAge: Duration.minutes(10),
  wsAllowedOrigins: [],
  behindTls: false,
  hstsMaxAge: Duration.days(365)
}

export const config: Config.Config<HardeningSettings> = Config.all({
  corsAllowedOrigins: originList(
    "PLEXI_CORS_ALLOWED_ORIGINS",
    "Origins allowed to call /api/v1 and /rpc from a browser (CORS); unset: none, CORS is closed."
  ),
  corsMaxAge: positiveDuration(
    "PLEXI_CORS_MAX_AGE",
    defaults.corsMaxAge,
    "How long a browser may cache a CORS preflight answer (Access-Control-Max-Age)."
  ),
  wsAllowedOrigins: originList(
    "PLEXI_WS_ALLOWED_ORIGINS",
    "Origins allowed to open /ws besides the node's own (whose host equals the request's Host); unset: same-origin only."
  ),
  behindTls: flag(
    "PLEXI_BEHIND_TLS",
    defaults.behindTls,
    "true: clients reach the node over HTTPS only, and every answer carries Strict-Transport-Security."
  ),
  hstsMaxAge: positiveDuration(
    "PLEXI_HSTS_MAX_AGE",
    defaults.hstsMaxAge,
    "max-age of Strict-Transport-Security when PLEXI_BEHIND_TLS=true."
  )
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(HardeningConfig, defaults, config)
