/**
 * The two ends of an OpenID Connect flow: `start` stores a flow (its
 * `state` as a SHA-256, its `nonce` and PKCE verifier) and answers the
 * provider URL; `verified` takes the flow of a callback's `state` once (a
 * replay finds none) and answers the provider's validated claims. Nothing
 * but the flow is written here.
 */
import { createHash } from "node:crypto"
import { Clock, Duration, Effect, Option } from "effect"
import type { UserId } from "../../../domain/Ids.ts"
import { type OidcCallbackParams, OidcFailed } from "../../../domain/Oidc.ts"
import type { AccountKit } from "../AccountKit.ts"
import type { OidcProviders } from "./OidcProviders.ts"
import type { OidcStore } from "./OidcStore.ts"

export const stateHashOf = (state: string) => createHash("sha256").update(state, "utf8").digest("hex")

export interface OidcDeps {
  readonly kit: AccountKit
  readonly providers: OidcProviders
  readonly rows: OidcStore
  readonly flowTtl: Duration.Duration
  readonly linkByEmail: boolean
}

export const makeFlows = (deps: OidcDeps) => {
  const { kit, providers, rows } = deps

  const start = (providerId: string, linkUserId: Option.Option<UserId>) =>
    Effect.gen(function*() {
      const p = yield* providers.provider(providerId)
      const { secrets, url } = yield* providers.authorizationUrl(p)
      const now = yield* Clock.currentTimeMillis
      const expiresAt = now + Duration.toMillis(deps.flowTtl)
      yield* kit.stored(rows.insertFlow({
        stateHash: stateHashOf(secrets.state),
        provider: p.id,
        nonce: secrets.nonce,
        codeVerifier: secrets.codeVerifier,
        linkUserId,
        now,
        expiresAt
      }))
      return { authorizationUrl: url, expiresAt }
    })

  /** Takes the flow of `params.state` once, and answers the provider's validated claims. */
  const verified = (providerId: string, params: OidcCallbackParams, linkUserId: Option.Option<UserId>) =>
    Effect.gen(function*() {
      const p = yield* providers.provider(providerId)
      const unknown = new OidcFailed({ reason: "unknown_state", message: "no sign-in was started with this state, or it was completed already" })
      if (params.state === undefined) return yield* unknown
      const flow = yield* kit.stored(rows.takeFlow(stateHashOf(params.state), linkUserId))
      if (Option.isNone(flow) || flow.value.provider !== p.id) return yield* unknown
      if (params.error !== undefined) {
        return yield* new OidcFailed({
          reason: "provider_error",
          message: `the provider answered ${params.error.slice(0, 64)}${
            params.error_description === undefined ? "" : `: ${params.error_description.slice(0, 200)}`
          }`
        })
      }
      if ((yield* Clock.currentTimeMillis) > flow.value.expiresAt) {
        return yield* new OidcFailed({ reason: "expired", message: "this sign-in took too long; start it again" })
      }
      const query = new URLSearchParams()
      for (const [key, value] of Object.entries(params)) if (typeof value === "string") query.set(key, value)
      const claims = yield* providers.exchange(p, query, { ...flow.value, state: params.state })
      return { provider: p, claims }
    })

  return { start, verified } as const
}

export type OidcFlows = ReturnType<typeof makeFlows>
