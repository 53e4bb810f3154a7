/**
 * The two-step sign-in. After the password, `gate` either lets the sign-in
 * open its session (no second factor) or stores a challenge and answers
 * `MfaRequired` (no session, no refresh token). `complete` takes the
 * challenge and a code and, in one transaction, consumes the code, ends the
 * challenge and opens the session.
 *
 * - The challenge is 32 random bytes; only its SHA-256 is stored, so a
 *   database reader cannot complete one.
 * - Its row is locked while a code is checked: attempts on one challenge
 *   take turns on any node, and one of two completions at once wins.
 * - A refused code commits only the attempt count (the transaction's
 *   answer is a value, not a failure that would roll the count back).
 * - A challenge is not tied to a factor kind: a security key completes it
 *   through src/auth/WebAuthnMfa.ts (an assertion in `useCode`'s place).
 */
import { randomBytes } from "node:crypto"
import { Clock, Effect, Option } from "effect"
import { InvalidMfaChallenge, InvalidMfaCode, MfaRequired } from "../../../domain/MfaErrors.ts"
import type { MfaFactor } from "../../../domain/Mfa.ts"
import { accountDisabled, type ClientInfo } from "../AccountKit.ts"
import type { StoredAccount } from "../AccountStore.ts"
import { challengeHashOf, type MfaKit, refusalMessages } from "./MfaKit.ts"

/** Whether a sign-in that passed its password may open a session now, or must answer `MfaRequired`. */
export const gate = (mfa: MfaKit) => (account: StoredAccount, client: ClientInfo, now: number) =>
  Effect.gen(function*() {
    const factors = yield* mfa.kit.stored(mfa.store.factors(account.userId))
    // A confirmed TOTP authenticator or a registered security key makes the password alone not enough.
    if (factors.totp !== "on" && factors.webauthnKeys === 0) return
    const challenge = `mc_${randomBytes(32).toString("base64url")}`
    const expiresAt = now + mfa.challengeTtlMs
    yield* mfa.kit.stored(mfa.store.createChallenge({
      hash: challengeHashOf(challenge),
      userId: account.userId,
      deviceName: client.deviceName ?? "",
      now,
      expiresAt
    }))
    const available: Array<MfaFactor> = [
      ...(factors.totp === "on" ? ["totp" as const] : []),
      ...(factors.backupCodesLeft > 0 ? ["backup_code" as const] : []),
      ...(factors.webauthnKeys > 0 ? ["webauthn" as const] : [])
    ]
    return yield* new MfaRequired({
      challenge,
      expiresAt,
      factors: available,
      message: factors.webauthnKeys > 0
        ? "this account has a second factor: POST /api/v1/auth/mfa {challenge, code}, or a security key through " +
          "POST /api/v1/auth/mfa/webauthn/options {challenge} and /verify"
        : "this account has a second factor: POST /api/v1/auth/mfa {challenge, code}"
    })
  })

export const challengeMessages = {
  unknown: "this sign-in challenge is not valid; sign in again",
  expired: "this sign-in challenge has expired; sign in again",
  used: "this sign-in challenge was already completed; sign in again",
  too_many_attempts: "too many wrong codes: this sign-in challenge has ended; sign in again"
} as const

type ChallengeEnd = keyof typeof challengeMessages

export const endReason = (stored: string): ChallengeEnd => stored === "used" ? "used" : "too_many_attempts"

export const complete = (mfa: MfaKit) => (input: { readonly challenge: string; readonly code: string }, client: ClientInfo) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const hash = challengeHashOf(input.challenge)
    const max = mfa.config.maxAttempts
    const outcome = yield* mfa.stored(mfa.store.transaction(Effect.gen(function*() {
      const found = yield* mfa.store.lockChallenge(hash)
      if (Option.isNone(found)) return { _tag: "Ended", reason: "unknown" } as const
      const challenge = found.value
      if (Option.isSome(challenge.ended)) return { _tag: "Ended", reason: endReason(challenge.ended.value) } as const
      if (challenge.expiresAt <= now) return { _tag: "Ended", reason: "expired" } as const
      const use = yield* mfa.useCode(challenge.userId, input.code, now)
      if (use._tag === "Refused") {
        const attempts = yield* mfa.store.failChallenge(hash, max, now)
        return { _tag: "Refused", reason: use.reason, attemptsLeft: Math.max(0, max - attempts) } as const
      }
      yield* mfa.store.completeChallenge(hash, now)
      const opened = mfa.kit.newSession(challenge.userId, { ...client, deviceName: challenge.deviceName }, now)
      // Disabled after the password step: the challenge ends, and no session opens.
      if (!(yield* mfa.store.insertSession(opened.session))) return { _tag: "Disabled" } as const
      return { _tag: "Completed", challenge, ...opened } as const
    })))
    switch (outcome._tag) {
      case "Disabled":
        return yield* accountDisabled()
      case "Ended":
        return yield* new InvalidMfaChallenge({ reason: outcome.reason, message: challengeMessages[outcome.reason] })
      case "Refused":
        yield* Effect.logInfo("second factor refused", { reason: outcome.reason, attemptsLeft: outcome.attemptsLeft })
        yield* mfa.kit.audit.record({ action: "mfa.code_refused", ip: client.ip, details: { reason: outcome.reason, attemptsLeft: outcome.attemptsLeft } })
        return yield* new InvalidMfaCode({
          reason: outcome.reason,
          attemptsLeft: outcome.attemptsLeft,
          message: outcome.attemptsLeft === 0 ? `${refusalMessages[outcome.reason]}; ${challengeMessages.too_many_attempts}` : refusalMessages[outcome.reason]
        })
      case "Completed":
        yield* mfa.kit.audit.record({
          actor: outcome.challenge.userId,
          action: "auth.login",
          target: outcome.session.id,
          ip: client.ip,
          details: { secondFactor: true }
        })
        return yield* mfa.kit.tokens(outcome.challenge, outcome.session.id, outcome.refreshToken, outcome.session.expiresAt)
    }
  })
