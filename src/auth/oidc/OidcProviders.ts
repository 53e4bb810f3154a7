/**
 * The relying-party side of each configured provider, through
 * `openid-client`: discovery (on first use, cached once it succeeded, so a
 * node starts while a provider is down), the authorization URL of a new
 * flow (PKCE S256, `state`, `nonce`), and the code exchange with the checks
 * of the ID token (signature from the provider's JWKS, issuer, audience,
 * expiry, nonce; the `iss` of the authorization response where sent).
 */
import { Duration, Effect, Option, Redacted, Schema } from "effect"
import * as client from "openid-client"
import { Email } from "../../../domain/Auth.ts"
import { OidcFailed, OidcProviderNotFound } from "../../../domain/Oidc.ts"
import { ServiceUnavailable } from "../../../domain/Errors.ts"
import type { OidcConfigShape, OidcProviderConfig } from "./OidcConfig.ts"

/** What a provider says about the user, from the validated ID token. */
export interface OidcClaims {
  readonly subject: string
  readonly email: Option.Option<string>
  readonly emailVerified: boolean
  /** A name to derive a username from (`preferred_username`, else the email's local part, else `name`). */
  readonly nameHint: Option.Option<string>
}

/** The secrets of a started flow, kept by the node until its callback. */
export interface FlowSecrets {
  readonly state: string
  readonly nonce: string
  readonly codeVerifier: string
}

const PROVIDER_TIMEOUT = Duration.seconds(10)

const stringClaim = (value: unknown): Option.Option<string> =>
  typeof value === "string" && value.length > 0 && value.length <= 256 ? Option.some(value) : Option.none()

/** An email claim only when it is one an account could hold (domain/Auth.ts `Email`: 254 characters, one '@'). */
const emailClaim = (value: unknown): Option.Option<string> => Option.filter(stringClaim(value), Schema.is(Email))

/** The longest `sub` taken (OpenID Connect Core: at most 255 ASCII characters). */
const SUBJECT_MAX = 255

/** Logged, and answered `ServiceUnavailable`: the provider cannot be reached (or timed out). */
const unavailable = (p: OidcProviderConfig, what: string) => (error: unknown) =>
  Effect.zipRight(
    Effect.logWarning(`OIDC provider ${what} failed`, { provider: p.id, error: String(error).slice(0, 500) }),
    Effect.fail(new ServiceUnavailable({ reason: `the sign-in provider "${p.id}" cannot be reached; try again later` }))
  )

const rejected = (message: string) => new OidcFailed({ reason: "rejected", message })

/** fetch fails with a TypeError when the provider cannot be reached; anything else is an answer that failed a check. */
const failedCall = (p: OidcProviderConfig, what: string) => (error: unknown): Effect.Effect<never, OidcFailed | ServiceUnavailable> =>
  error instanceof TypeError || (error instanceof Error && error.message === "provider timed out")
    ? unavailable(p, what)(error)
    : Effect.zipRight(
      Effect.logWarning(`OIDC ${what} refused`, { provider: p.id, error: String(error).slice(0, 500) }),
      Effect.fail(rejected("the provider's answer did not pass its checks; sign in again"))
    )

const timedOut = () => new Error("provider timed out")

const discover = (p: OidcProviderConfig): Effect.Effect<client.Configuration, ServiceUnavailable> => {
  const timeout = Duration.toSeconds(PROVIDER_TIMEOUT)
  return Effect.tryPromise(() =>
    client.discovery(
      p.issuer,
      p.clientId,
      Redacted.value(p.clientSecret),
      undefined,
      p.allowHttp ? { execute: [client.allowInsecureRequests], timeout } : { timeout }
    )
  ).pipe(Effect.timeout(PROVIDER_TIMEOUT), Effect.catchAll(unavailable(p, "discovery")))
}

/** A new flow's secrets and the provider URL to send the user to. */
const authorizationUrlOf = (configuration: client.Configuration, p: OidcProviderConfig) =>
  Effect.gen(function*() {
    const secrets: FlowSecrets = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier()
    }
    const challenge = yield* Effect.promise(() => client.calculatePKCECodeChallenge(secrets.codeVerifier))
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: p.redirectUri.href,
      scope: p.scopes,
      state: secrets.state,
      nonce: secrets.nonce,
      code_challenge: challenge,
      code_challenge_method: "S256"
    })
    return { url: url.href, secrets }
  })

/** The token endpoint's answer to the code, after `openid-client`'s checks of the response and the ID token. */
const grant = (configuration: client.Configuration, p: OidcProviderConfig, query: URLSearchParams, flow: FlowSecrets) => {
  const current = new URL(p.redirectUri.href)
  current.search = query.toString()
  return Effect.tryPromise({
    try: () =>
      client.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true
      }),
    catch: (error) => error
  }).pipe(
    Effect.timeoutFail({ duration: PROVIDER_TIMEOUT, onTimeout: timedOut }),
    Effect.catchAll(failedCall(p, "code exchange"))
  )
}

type Tokens = Effect.Effect.Success<ReturnType<typeof grant>>

/**
 * The user's claims: the ID token's, with the UserInfo answer's (checked to be
 * of the same subject) when the ID token lacks the email or its verification
 * (many providers send them only there).
 */
const claimsOf = (configuration: client.Configuration, p: OidcProviderConfig, tokens: Tokens) =>
  Effect.gen(function*() {
    const idToken = tokens.claims()
    if (idToken === undefined) return yield* rejected("the provider sent no ID token")
    if (idToken.sub.length > SUBJECT_MAX) return yield* rejected("the provider's subject identifier is longer than 255 characters")
    const lacking = idToken.email === undefined || idToken.email_verified === undefined
    const claims: Record<string, unknown> = lacking && configuration.serverMetadata().userinfo_endpoint !== undefined
      ? {
        ...idToken,
        ...(yield* Effect.tryPromise({
          try: () => client.fetchUserInfo(configuration, tokens.access_token, idToken.sub),
          catch: (error) => error
        }).pipe(
          Effect.timeoutFail({ duration: PROVIDER_TIMEOUT, onTimeout: timedOut }),
          Effect.catchAll(failedCall(p, "userinfo"))
        )),
        sub: idToken.sub
      }
      : idToken
    const email = emailClaim(claims.email)
    const found: OidcClaims = {
      subject: idToken.sub,
      email,
      emailVerified: claims.email_verified === true,
      nameHint: Option.orElse(
        stringClaim(claims.preferred_username),
        () => Option.orElse(Option.map(email, (e) => e.split("@")[0]!), () => stringClaim(claims.name))
      )
    }
    return found
  })

export const makeOidcProviders = (config: OidcConfigShape) => {
  const byId = new Map(config.providers.map((p) => [p.id, p]))
  const discovered = new Map<string, client.Configuration>()

  const provider = (id: string): Effect.Effect<OidcProviderConfig, OidcProviderNotFound> => {
    const found = byId.get(id)
    return found === undefined ? Effect.fail(new OidcProviderNotFound({ provider: id.slice(0, 64) })) : Effect.succeed(found)
  }

  const configurationOf = (p: OidcProviderConfig): Effect.Effect<client.Configuration, ServiceUnavailable> => {
    const cached = discovered.get(p.id)
    return cached !== undefined
      ? Effect.succeed(cached)
      : Effect.tap(discover(p), (configuration) => Effect.sync(() => discovered.set(p.id, configuration)))
  }

  return {
    providers: config.providers,
    provider,
    authorizationUrl: (p: OidcProviderConfig) => Effect.flatMap(configurationOf(p), (c) => authorizationUrlOf(c, p)),
    /**
     * Exchanges the code of an authorization response (`query`, as the
     * provider sent it to the redirect URI) and validates the ID token. A
     * refusal by the provider or a failed check is `OidcFailed` (`rejected`);
     * a provider that cannot be reached is `ServiceUnavailable`.
     */
    exchange: (p: OidcProviderConfig, query: URLSearchParams, flow: FlowSecrets) =>
      Effect.flatMap(configurationOf(p), (c) => Effect.flatMap(grant(c, p, query, flow), (tokens) => claimsOf(c, p, tokens)))
  } as const
}

export type OidcProviders = ReturnType<typeof makeOidcProviders>
