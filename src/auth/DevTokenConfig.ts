/**
 * Settings of the TEMPORARY development tokens (src/auth/DevTokens.ts), in
 * the `ShardingConfig` style: a tag, `defaults`, a validated `config` read
 * from the environment, `layer(options)` and `layerFromEnv(options)`. An
 * empty secret or a lifetime of 0 is a start-up error naming the variable.
 * README's configuration table lists the same names.
 */
import { Config, Context, Duration, Effect, Redacted } from "effect"
import { configLayers } from "../config/ConfigLayers.ts"
import { flag, positiveDuration, secret } from "../config/Settings.ts"
import type { DevTokenOptions } from "./DevTokens.ts"

export interface DevTokenConfigShape {
  /** Whether `POST /api/v1/dev/token` may mint tokens; verification works either way. */
  readonly issuing: boolean
  /** The HMAC secret tokens are signed and verified with (the same on every node). */
  readonly secret: Redacted.Redacted<string>
  /** How long a token is valid. */
  readonly ttl: Duration.Duration
}

export class DevTokenConfig extends Context.Tag("plexichat/DevTokenConfig")<DevTokenConfig, DevTokenConfigShape>() {}

/** The built-in development secret: fine on one laptop, never for a cluster others can reach. */
export const defaultSecret = "plexichat-development-secret-change-me"

export const defaults: DevTokenConfigShape = {
  issuing: true,
  secret: Redacted.make(defaultSecret),
  ttl: Duration.hours(12)
}

export const config: Config.Config<DevTokenConfigShape> = Config.all({
  issuing: flag("PLEXI_DEV_AUTH", defaults.issuing, "false: POST /api/v1/dev/token answers 403 (issued tokens still verify)."),
  secret: secret(
    "PLEXI_DEV_TOKEN_SECRET",
    defaultSecret,
    "HMAC secret of the dev tokens, the same on every node; a node on Postgres refuses the public default."
  ),
  ttl: positiveDuration("PLEXI_DEV_TOKEN_TTL", defaults.ttl, "Lifetime of a dev token.")
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(DevTokenConfig, defaults, config)

/**
 * A node others can reach (a cluster runner on Postgres: `shared`) must sign
 * tokens with its own secret: with the public default anyone could mint a
 * token for any user. Dies naming the variable; a single node may keep it.
 */
export const requireOwnSecret = (c: DevTokenConfigShape, shared: boolean): Effect.Effect<void> =>
  shared && Redacted.value(c.secret) === defaultSecret
    ? Effect.dieMessage(
      "PLEXI_DEV_TOKEN_SECRET is the public default: set it to a long random string (shared by all nodes) before running on Postgres"
    )
    : Effect.void

/** The options of `DevTokens.layer`. */
export const tokenOptions = (c: DevTokenConfigShape): DevTokenOptions => ({
  secret: c.secret,
  ttlMs: Duration.toMillis(c.ttl),
  issuing: c.issuing
})
