/**
 * What the WebAuthn operations (`WebAuthnRegistration.ts`,
 * `WebAuthnSignIn.ts`) share: the settings, the store, the accounts (for
 * names and new sessions), and the helpers that issue challenges and map
 * store failures.
 */
import { randomBytes } from "node:crypto"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Duration, Effect, Option, Predicate } from "effect"
import { ServiceUnavailable } from "../../domain/Errors.ts"
import type { UserId } from "../../domain/Ids.ts"
import { WebAuthnDisabled } from "../../domain/WebAuthnErrors.ts"
import { Accounts } from "./Accounts.ts"
import { expectedOrigins, WebAuthnConfig } from "./WebAuthnConfig.ts"
import { type Ceremony, WebAuthnStore } from "./WebAuthnStore.ts"

/** The most keys one account may register. */
export const MAX_KEYS_PER_ACCOUNT = 20

/** The relying party every ceremony is checked against. */
export interface RelyingParty {
  readonly rpId: string
  readonly rpName: string
  readonly origins: ReadonlyArray<string>
  readonly timeoutMs: number
}

/** A user handle (WebAuthn `user.id`): the bytes of the user id, which is random and names nobody. */
export const userHandleOf = (userId: UserId): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(userId, "utf8"))

export const makeWebAuthnKit = Effect.gen(function*() {
  const settings = yield* WebAuthnConfig
  const store = yield* WebAuthnStore
  const accounts = yield* Accounts
  const ttlMs = Duration.toMillis(settings.challengeTtl)

  /** The relying party, or `WebAuthnDisabled` when `PLEXI_WEBAUTHN_RP_ID` is not set. */
  const relyingParty: Effect.Effect<RelyingParty, WebAuthnDisabled> = Option.match(settings.rpId, {
    onNone: () =>
      Effect.fail(new WebAuthnDisabled({ message: "WebAuthn is not enabled on this installation (PLEXI_WEBAUTHN_RP_ID is not set)" })),
    onSome: (rpId) => Effect.succeed({ rpId, rpName: settings.rpName, origins: expectedOrigins(settings, rpId), timeoutMs: ttlMs })
  })

  /** Store failures: logged, and answered `ServiceUnavailable` (the caller may retry). */
  const stored = <A, E, R>(effect: Effect.Effect<A, E | SqlError, R>) =>
    Effect.catchIf(effect, (error): error is SqlError => Predicate.isTagged(error, "SqlError"), (error) =>
      Effect.zipRight(
        Effect.logError("webauthn store failed", error),
        Effect.fail(new ServiceUnavailable({ reason: "webauthn store unavailable" }))
      ))

  /** Issues a challenge for a ceremony and stores it for any node to verify; answers its id and value. */
  const issueChallenge = (
    ceremony: Ceremony,
    fields: { readonly userId?: UserId; readonly boundTo?: string; readonly keyName?: string }
  ) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const challenge = {
        id: `wc_${randomBytes(16).toString("base64url")}`,
        challenge: randomBytes(32).toString("base64url"),
        ceremony,
        userId: Option.fromNullable(fields.userId),
        boundTo: Option.fromNullable(fields.boundTo),
        keyName: Option.fromNullable(fields.keyName),
        expiresAt: now + ttlMs
      }
      yield* stored(store.insertChallenge(challenge, now))
      return challenge
    })

  return { settings, store, accounts, relyingParty, stored, issueChallenge } as const
})

export type WebAuthnKit = Effect.Effect.Success<typeof makeWebAuthnKit>
