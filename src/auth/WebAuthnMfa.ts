/**
 * A security key as a factor of the two-step sign-in (src/auth/mfa/): the
 * `challenge` of a `MfaRequired` answer is completed with an assertion
 * instead of a code. The WebAuthn challenge is bound to the MFA challenge
 * (its SHA-256, as the MFA store keys it) and to its user, so only a key of
 * that user completes that sign-in. Verifying, using up both challenges and
 * opening the session happen in one transaction, with the MFA challenge's
 * row locked like a code completion does: of a code and a key sent at once,
 * one wins. A refused assertion writes nothing, not even an attempt (an
 * assertion cannot be guessed).
 */
import { Clock, Effect, Option } from "effect"
import type { UserId } from "../../domain/Ids.ts"
import { InvalidMfaChallenge } from "../../domain/MfaErrors.ts"
import type { AuthenticationResponse } from "../../domain/WebAuthn.ts"
import type { ClientInfo } from "./AccountKit.ts"
import { challengeMessages, endReason } from "./mfa/MfaChallenge.ts"
import { challengeHashOf } from "./mfa/MfaKit.ts"
import type { LockedChallenge } from "./MfaStore.ts"
import { MfaStore } from "./MfaStore.ts"
import type { WebAuthnKit } from "./WebAuthnKit.ts"
import { secondFactor, secondFactorOptions } from "./WebAuthnSignIn.ts"

const invalid = (reason: keyof typeof challengeMessages) => new InvalidMfaChallenge({ reason, message: challengeMessages[reason] })

/** The MFA challenge while it can still be completed, else why not. */
const usable = (found: Option.Option<LockedChallenge>, now: number, userId?: UserId) => {
  if (Option.isNone(found) || (userId !== undefined && found.value.userId !== userId)) return Effect.fail(invalid("unknown"))
  const challenge = found.value
  if (Option.isSome(challenge.ended)) return Effect.fail(invalid(endReason(challenge.ended.value)))
  if (challenge.expiresAt <= now) return Effect.fail(invalid("expired"))
  return Effect.succeed(challenge)
}

export const makeWebAuthnMfa = (kit: WebAuthnKit) =>
  Effect.map(MfaStore, (store) => ({
    /** Options for the MFA challenge's user's keys; a new WebAuthn challenge bound to it. */
    options: (challenge: string) =>
      Effect.gen(function*() {
        const hash = challengeHashOf(challenge)
        const now = yield* Clock.currentTimeMillis
        const found = yield* usable(yield* kit.stored(store.lockChallenge(hash)), now)
        return yield* secondFactorOptions(kit)(found.userId, hash)
      }),
    /** Completes the MFA challenge with an assertion; answers the token pair. */
    verify: (input: { readonly challenge: string; readonly challengeId: string; readonly response: AuthenticationResponse }, client: ClientInfo) =>
      secondFactor(kit)(input.challengeId, input.response, client, (boundTo, userId) =>
        Effect.gen(function*() {
          const hash = challengeHashOf(input.challenge)
          if (boundTo !== hash) return yield* invalid("unknown")
          const now = yield* Clock.currentTimeMillis
          const found = yield* usable(yield* store.lockChallenge(hash), now, userId)
          yield* store.completeChallenge(hash, now)
          return { deviceName: found.deviceName }
        }))
  }) as const)
