/**
 * Settings of WebAuthn security keys (src/auth/WebAuthn*.ts), in the
 * `ShardingConfig` style. WebAuthn is off unless `PLEXI_WEBAUTHN_RP_ID` is
 * set: the relying-party id is the domain the keys are bound to, and guessing
 * it (a node does not know the name its users reach it by) would bind keys to
 * the wrong name, which cannot be changed later without registering them
 * again. docs/SECURITY.md and the README list the same names.
 */
import { Config, Context, Duration, Option } from "effect"
import { configLayers } from "../config/ConfigLayers.ts"
import { originList, positiveDuration, text } from "../config/Settings.ts"

export interface WebAuthnSettings {
  /** The relying party: the domain keys are scoped to (`example.com`); none: WebAuthn is off. */
  readonly rpId: Option.Option<string>
  /** Shown by the browser and the authenticator while registering. */
  readonly rpName: string
  /** The origins a ceremony may come from; empty: `https://<rpId>` only. */
  readonly origins: ReadonlyArray<string>
  /** How long a challenge from `…/options` stays usable. */
  readonly challengeTtl: Duration.Duration
}

export class WebAuthnConfig extends Context.Tag("plexichat/WebAuthnConfig")<WebAuthnConfig, WebAuthnSettings>() {}

export const defaults: WebAuthnSettings = {
  rpId: Option.none(),
  rpName: "PlexiChat",
  origins: [],
  challengeTtl: Duration.minutes(2)
}

/** A host name as an RP id: lower-case labels of letters, digits and `-`, dot-separated (`localhost` included). */
const isRpId = (s: string) => s.length <= 253 && /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/.test(s)

/** An origin may use an RP id that is its host or a parent domain of its host (WebAuthn's "registrable suffix"). */
export const originFitsRpId = (origin: string, rpId: string) => {
  const host = new URL(origin).hostname
  return host === rpId || host.endsWith(`.${rpId}`)
}

const rpId = Config.option(
  Config.string("PLEXI_WEBAUTHN_RP_ID").pipe(
    Config.validate({
      message: "PLEXI_WEBAUTHN_RP_ID must be a lower-case host name such as example.com (no scheme, port or path)",
      validation: isRpId
    })
  )
).pipe(Config.withDescription("WebAuthn relying-party id, the domain keys are bound to (e.g. chat.example.com); unset: WebAuthn is off."))

export const config: Config.Config<WebAuthnSettings> = Config.all({
  rpId,
  rpName: text("PLEXI_WEBAUTHN_RP_NAME", defaults.rpName, "The name browsers and authenticators show while registering a key."),
  origins: originList(
    "PLEXI_WEBAUTHN_ORIGINS",
    "Origins WebAuthn ceremonies may come from (the web client's), each on the RP id or a subdomain; unset: https://<rp id>."
  ),
  challengeTtl: positiveDuration("PLEXI_WEBAUTHN_CHALLENGE_TTL", defaults.challengeTtl, "How long a WebAuthn challenge stays usable.")
}).pipe(
  Config.validate({
    message: "every origin of PLEXI_WEBAUTHN_ORIGINS must be on PLEXI_WEBAUTHN_RP_ID or a subdomain of it (and needs the RP id set)",
    validation: (c) =>
      c.origins.length === 0 || Option.match(c.rpId, { onNone: () => false, onSome: (id) => c.origins.every((o) => originFitsRpId(o, id)) })
  })
)

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(WebAuthnConfig, defaults, config)

/** The origins ceremonies are checked against: the configured ones, or `https://<rpId>`. */
export const expectedOrigins = (settings: WebAuthnSettings, rpId: string): ReadonlyArray<string> =>
  settings.origins.length > 0 ? settings.origins : [`https://${rpId}`]
