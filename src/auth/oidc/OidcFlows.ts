/**
 * The two ends of an OpenID Connect flow: `start` stores a flow (its
 * `state` as a SHA-256, its `nonce` and PKCE verifier) and answers the
 * provider URL; `verified` takes the flow of a callback's `state` once (a
 * replay finds none) and answers the provider's validated claims. Nothing
 * but the flow is written here.
 */
import { createHash, randomBytes } from "node:crypto"
import { Clock, Duration, Effect, Option } from "effect"
import type { UserId } from "../../../domain/Ids.ts"
import { type OidcCallbackParams, OidcFailed } from "../../../domain/Oidc.ts"
import type { AccountKit } from "../AccountKit.ts"
import type { SecondFactorGate } from "../mfa/Mfa.ts"
import type { OidcProviders } from "./OidcProviders.ts"
import type { OidcStore } from "./OidcStore.ts"

/** SHA-256 (hex) of a flow's `state` or `binding`, as stored. */
export const hashOf = (secret: string) => createHash("sha256").update(secret, "utf8").digest("hex")

/** The `error` code of a provider's answer as we repeat it: OAuth's error codes only (no free text of theirs). */
const errorCode = (error: string) => /^[a-z_]{1,64}$/.test(error) ? error : "an error"

export interface OidcDeps {
  readonly kit: AccountKit
  /** The second factor an account with MFA on must give, as after a password (`MfaRequired`). */
  readonly secondFactor: SecondFactorGate
  readonly providers: OidcProviders
  readonly rows: OidcStore
  readonly flowTtl: Duration.Duration
  readonly linkByEmail: boolean
}

export const makeFlows = (deps: OidcDeps) => {
  const { kit, providers, rows } = deps

  /**
   * `gate` runs once the provider is known, before anything is made or
   * stored: the per-address budget of a token-less start.
   */
  const start = <E>(providerId: string, linkUserId: Option.Option<UserId>, gate: Effect.Effect<void, E>) =>
    Effect.gen(function*() {
      const p = yield* providers.provider(providerId)
      yield* gate
      const { secrets, url } = yield* providers.authorizationUrl(p)
      const now = yield* Clock.currentTimeMillis
      const expiresAt = now + Duration.toMillis(deps.flowTtl)
      const binding = randomBytes(32).toString("base64url")
      yield* kit.stored(rows.insertFlow({
        stateHash: hashOf(secrets.state),
        provider: p.id,
        nonce: secrets.nonce,
        codeVerifier: secrets.codeVerifier,
        bindingHash: hashOf(binding),
        linkUserId,
        now,
        expiresAt
      }))
      return { authorizationUrl: url, expiresAt, binding }
    })

  /** Takes the flow of `params.state` (with its `binding`) once, and answers the provider's validated claims. */
  const verified = (providerId: string, params: OidcCallbackParams, linkUserId: Option.Option<UserId>) =>
    Effect.gen(function*() {
      const p = yield* providers.provider(providerId)
      const unknown = new OidcFailed({
        reason: "unknown_state",
        message: "no sign-in was started with this state and binding, or it was completed already"
      })
      if (params.state === undefined || params.binding === undefined) return yield* unknown
      const flow = yield* kit.stored(rows.takeFlow(hashOf(params.state), hashOf(params.binding), linkUserId))
      if (Option.isNone(flow) || flow.value.provider !== p.id) return yield* unknown
      if (params.error !== undefined) {
        return yield* new OidcFailed({ reason: "provider_error", message: `the provider answered ${errorCode(params.error)}` })
      }
      if ((yield* Clock.currentTimeMillis) > flow.value.expiresAt) {
        return yield* new OidcFailed({ reason: "expired", message: "this sign-in took too long; start it again" })
      }
      // The provider's answer as it came, without our binding.
      const query = new URLSearchParams()
      for (const [key, value] of Object.entries(params)) if (key !== "binding" && typeof value === "string") query.set(key, value)
      const claims = yield* providers.exchange(p, query, { ...flow.value, state: params.state })
      return { provider: p, claims }
    })

  return { start, verified } as const
}

export type OidcFlows = ReturnType<typeof makeFlows>
