/**
 * Settings of multi-factor sign-in (src/auth/mfa/), in the `ShardingConfig`
 * style: a tag, `defaults`, a validated `config` read from the environment,
 * `layer(options)` and `layerFromEnv(options)`. docs/SECURITY.md and the
 * README's configuration table list the same names.
 */
import { Config, ConfigError, Context, Duration, Effect, Either, Option, Redacted } from "effect"
import { configLayers } from "../../config/ConfigLayers.ts"
import { positiveDuration, text } from "../../config/Settings.ts"
import { boundedInteger } from "../AuthConfig.ts"
import { parseSigningKeys, type SigningKeys } from "../SigningKeys.ts"

export interface MfaConfigShape {
  /**
   * The keys TOTP secrets are encrypted with (AES-256-GCM): the first
   * encrypts, all decrypt. None: a single embedded node keeps its own key in
   * its data directory (`mfa-keys`, made at first start).
   */
  readonly keys: Option.Option<Redacted.Redacted<SigningKeys>>
  /** How long a sign-in challenge (`MfaRequired`) may be completed. */
  readonly challengeTtl: Duration.Duration
  /** Wrong codes a challenge takes; the last one ends it. */
  readonly maxAttempts: number
  /** The issuer an authenticator app shows next to the username. */
  readonly issuer: string
}

export class MfaConfig extends Context.Tag("plexichat/MfaConfig")<MfaConfig, MfaConfigShape>() {}

export const defaults: MfaConfigShape = {
  keys: Option.none(),
  challengeTtl: Duration.minutes(5),
  maxAttempts: 5,
  issuer: "PlexiChat"
}

export const MFA_KEYS = "PLEXI_AUTH_MFA_KEYS"

const keys = Config.option(
  Config.redacted(MFA_KEYS).pipe(
    Config.mapOrFail((raw) =>
      Either.match(parseSigningKeys(Redacted.value(raw), MFA_KEYS), {
        onLeft: (message) => Either.left(ConfigError.InvalidData([], message)),
        onRight: (parsed) => Either.right(Redacted.make(parsed))
      })
    )
  )
).pipe(Config.withDescription(
  "Keys that encrypt TOTP secrets at rest, kid=secret[,kid=secret...]: the first encrypts, all decrypt (secrets of 32+ characters, the same on every node)."
))

export const config: Config.Config<MfaConfigShape> = Config.all({
  keys,
  challengeTtl: positiveDuration(
    "PLEXI_AUTH_MFA_CHALLENGE_TTL",
    defaults.challengeTtl,
    "How long the second sign-in step may take after the password was accepted."
  ).pipe(Config.validate({
    message: "PLEXI_AUTH_MFA_CHALLENGE_TTL must be at most 1 hour",
    validation: (d) => Duration.lessThanOrEqualTo(d, Duration.hours(1))
  })),
  maxAttempts: boundedInteger("PLEXI_AUTH_MFA_MAX_ATTEMPTS", 1, 20, defaults.maxAttempts, "Wrong codes one sign-in challenge takes."),
  issuer: text("PLEXI_AUTH_TOTP_ISSUER", defaults.issuer, "Issuer shown by authenticator apps.").pipe(
    Config.validate({
      message: "PLEXI_AUTH_TOTP_ISSUER must have 1 to 64 characters and no ':'",
      validation: (s) => s.length >= 1 && s.length <= 64 && !s.includes(":")
    })
  )
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(MfaConfig, defaults, config)

/** A node on Postgres needs keys every node shares; a single embedded node may keep its own. */
export const requireMfaKeys = (c: MfaConfigShape, shared: boolean): Effect.Effect<void> =>
  shared && Option.isNone(c.keys)
    ? Effect.dieMessage(
      `${MFA_KEYS} is not set: a node on Postgres needs the keys that encrypt TOTP secrets, shared by all nodes (kid=secret of 32+ characters)`
    )
    : Effect.void
