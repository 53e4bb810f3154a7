/**
 * Settings of OpenID Connect sign-in (src/auth/oidc/), in the
 * `ShardingConfig` style. Providers are generic: `PLEXI_OIDC_PROVIDERS`
 * lists their ids, and each id `<ID>` (upper case, `-` as `_`) has
 * `PLEXI_OIDC_<ID>_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET` and optional
 * `_NAME`, `_SCOPES`, `_REDIRECT_URI` and `_ALLOW_HTTP`. A bad value stops the
 * node at start naming the variable (never a secret's value);
 * docs/SECURITY.md lists the same names.
 */
import { Config, ConfigError, Context, Duration, Effect, Either, Layer, Option, type Redacted } from "effect"
import { flag, optionalText, positiveDuration } from "../../config/Settings.ts"

export interface OidcProviderConfig {
  /** The id in paths (`/api/v1/auth/oidc/<id>/...`) and in linked identities. */
  readonly id: string
  /** Shown to users ("Sign in with <name>"). */
  readonly name: string
  /** The issuer identifier; its discovery document is read on first use. */
  readonly issuer: URL
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** Space-separated; always contains `openid`. */
  readonly scopes: string
  /** Where the provider sends the browser back: by default the node's own callback under `PLEXI_PUBLIC_URL`. */
  readonly redirectUri: URL
  /** Plain-HTTP issuer allowed (development and tests only). */
  readonly allowHttp: boolean
}

export interface OidcConfigShape {
  readonly providers: ReadonlyArray<OidcProviderConfig>
  /** How long a started sign-in may take before its callback is refused. */
  readonly flowTtl: Duration.Duration
  /** Sign in to an existing account whose email matches a verified email of the provider (else a new account). */
  readonly linkByEmail: boolean
}

export class OidcConfig extends Context.Tag("plexichat/OidcConfig")<OidcConfig, OidcConfigShape>() {}

export const defaults: OidcConfigShape = { providers: [], flowTtl: Duration.minutes(10), linkByEmail: true }

const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,31}$/

const invalid = (message: string) => Either.left(ConfigError.InvalidData([], message))

/** `PLEXI_OIDC_<ID>_<FIELD>` for a provider id. */
export const variableOf = (id: string, field: string) => `PLEXI_OIDC_${id.toUpperCase().replaceAll("-", "_")}_${field}`

const url = (name: string, https: boolean) =>
  Config.string(name).pipe(Config.mapOrFail((raw) => {
    try {
      const parsed = new URL(raw)
      if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && !https)) {
        return invalid(`${name} must be an https URL${https ? "" : " (or http)"}`)
      }
      if (parsed.search !== "" || parsed.hash !== "") return invalid(`${name} must have no query or fragment`)
      return Either.right(parsed)
    } catch {
      return invalid(`${name} must be an absolute URL`)
    }
  }))

const nonEmpty = (name: string) => Config.string(name).pipe(Config.validate({ message: `${name} must not be empty`, validation: (s) => s.trim().length > 0 }))

const provider = (id: string, publicUrl: Option.Option<URL>): Effect.Effect<OidcProviderConfig, ConfigError.ConfigError> =>
  Config.all({
    allowHttp: flag(variableOf(id, "ALLOW_HTTP"), false, "Accept a plain-HTTP issuer (development only)."),
    name: Config.option(nonEmpty(variableOf(id, "NAME"))),
    clientId: nonEmpty(variableOf(id, "CLIENT_ID")),
    clientSecret: Config.redacted(variableOf(id, "CLIENT_SECRET")),
    scopes: Config.string(variableOf(id, "SCOPES")).pipe(Config.withDefault("openid email profile")),
    redirect: Config.option(url(variableOf(id, "REDIRECT_URI"), false))
  }).pipe(Effect.flatMap((c) =>
    url(variableOf(id, "ISSUER"), !c.allowHttp).pipe(Config.mapOrFail((issuer) => {
      const redirectUri = Option.orElse(
        c.redirect,
        () => Option.map(publicUrl, (base) => new URL(`${base.pathname.replace(/\/$/, "")}/api/v1/auth/oidc/${id}/callback`, base))
      )
      if (Option.isNone(redirectUri)) {
        return invalid(`${variableOf(id, "REDIRECT_URI")} or PLEXI_PUBLIC_URL must be set for the OIDC provider "${id}"`)
      }
      const scopes = c.scopes.split(/\s+/).filter((s) => s.length > 0)
      return Either.right({
        id,
        name: Option.getOrElse(c.name, () => id),
        issuer,
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        scopes: (scopes.includes("openid") ? scopes : ["openid", ...scopes]).join(" "),
        redirectUri: redirectUri.value,
        allowHttp: c.allowHttp
      })
    }))
  ))

const providerIds = Config.string("PLEXI_OIDC_PROVIDERS").pipe(
  Config.withDefault(""),
  Config.mapOrFail((raw) => {
    const ids = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
    const bad = ids.find((id) => !PROVIDER_ID.test(id))
    if (bad !== undefined) return invalid(`PLEXI_OIDC_PROVIDERS: "${bad.slice(0, 40)}" is not a provider id (1 to 32 of a-z, 0-9, '-')`)
    if (new Set(ids).size !== ids.length) return invalid("PLEXI_OIDC_PROVIDERS names a provider twice")
    return Either.right(ids)
  }),
  Config.withDescription("OpenID Connect providers, by id (comma-separated); each configured by PLEXI_OIDC_<ID>_*.")
)

const publicUrl = optionalText("PLEXI_PUBLIC_URL", "The node's public base URL (for the OIDC redirect URIs).").pipe(
  Config.mapOrFail((raw) => {
    if (Option.isNone(raw)) return Either.right(Option.none<URL>())
    try {
      const parsed = new URL(raw.value)
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return invalid("PLEXI_PUBLIC_URL must be an http(s) URL")
      return Either.right(Option.some(parsed))
    } catch {
      return invalid("PLEXI_PUBLIC_URL must be an absolute URL such as https://chat.example.com")
    }
  })
)

/** The settings from the environment (a provider's variables are read once its id is known). */
export const config: Effect.Effect<OidcConfigShape, ConfigError.ConfigError> = Config.all({
  ids: providerIds,
  publicUrl,
  flowTtl: positiveDuration("PLEXI_OIDC_FLOW_TTL", defaults.flowTtl, "How long a started OIDC sign-in stays valid."),
  linkByEmail: flag("PLEXI_OIDC_LINK_BY_EMAIL", defaults.linkByEmail, "Sign in to the account with the provider's verified email.")
}).pipe(Effect.flatMap(({ ids, publicUrl, flowTtl, linkByEmail }) =>
  Effect.map(Effect.all(ids.map((id) => provider(id, publicUrl))), (providers) => ({ providers, flowTtl, linkByEmail }))
))

/** `layer(options)`: the defaults (no provider), `layerFromEnv(options)`: the environment, each with `options` on top. */
export const layer = (options?: Partial<OidcConfigShape>): Layer.Layer<OidcConfig> =>
  Layer.succeed(OidcConfig, { ...defaults, ...options })
export const layerFromEnv = (options?: Partial<OidcConfigShape>): Layer.Layer<OidcConfig> =>
  Layer.effect(OidcConfig, Effect.map(Effect.orDie(config), (c) => ({ ...c, ...options })))
