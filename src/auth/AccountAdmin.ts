/**
 * Account administration by a workspace owner or admin: disable, enable,
 * password reset and MFA reset of another account (rules: AdminPolicy.ts).
 * Disabling and resetting end every session of the account, on every node within the
 * revocation poll interval (Revocations.ts); a disabled account cannot sign
 * in or refresh (SignIn.ts). Nothing is written when a rule refuses.
 */
import { Clock, Effect } from "effect"
import { AccountNotFound, type MfaReset } from "../../domain/AdminUsers.ts"
import { Forbidden } from "../../domain/Errors.ts"
import type { UserId } from "../../domain/Ids.ts"
import type { AccountKit, Caller } from "./AccountKit.ts"
import type { Refusal } from "./AdminPolicy.ts"
import type { AdminOutcome } from "./AccountStore.ts"

const refused = (refusal: Refusal, targetId: UserId) =>
  refusal._tag === "Forbidden"
    ? Effect.fail(new Forbidden({ message: refusal.message }))
    : Effect.fail(new AccountNotFound({ userId: targetId }))

const revokedOf = (outcome: AdminOutcome, targetId: UserId) =>
  outcome._tag === "Done" ? Effect.succeed(outcome.revoked) : refused(outcome, targetId)

export const disable = (kit: AccountKit) => (caller: Caller, targetId: UserId) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const revoked = yield* revokedOf(yield* kit.revoking(kit.stored(kit.store.disable(caller.userId, targetId, now))), targetId)
    yield* Effect.logInfo("account disabled", { by: caller.userId, userId: targetId, revokedSessions: revoked })
    yield* kit.audit.record({ actor: caller.userId, action: "admin.account_disabled", target: targetId, details: { revoked } })
    return { userId: targetId, disabled: true, revoked }
  })

export const enable = (kit: AccountKit) => (caller: Caller, targetId: UserId) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    yield* revokedOf(yield* kit.revoking(kit.stored(kit.store.enable(caller.userId, targetId, now))), targetId)
    yield* Effect.logInfo("account enabled", { by: caller.userId, userId: targetId })
    yield* kit.audit.record({ actor: caller.userId, action: "admin.account_enabled", target: targetId })
    return { userId: targetId, disabled: false, revoked: 0 }
  })

export const resetPassword = (kit: AccountKit) => (caller: Caller, targetId: UserId, newPassword: string) =>
  Effect.gen(function*() {
    // Checked before the rules and the hash, so a member learns nothing and costs no hash; checked again under lock.
    const before = yield* kit.stored(kit.store.adminPrecheck(caller.userId, targetId, "password"))
    if (before._tag !== "Allowed") return yield* refused(before, targetId)
    yield* kit.policy(newPassword, before.username)
    const passwordHash = yield* kit.hasher.hash(newPassword)
    const now = yield* Clock.currentTimeMillis
    const outcome = yield* kit.revoking(kit.stored(kit.store.resetPassword(caller.userId, targetId, passwordHash, now)))
    const revoked = yield* revokedOf(outcome, targetId)
    yield* Effect.logInfo("password reset by an admin", { by: caller.userId, userId: targetId, revokedSessions: revoked })
    yield* kit.audit.record({ actor: caller.userId, action: "admin.password_reset", target: targetId, details: { revoked } })
    return { revoked }
  })

/**
 * Removes every second factor of the account (TOTP, backup codes, WebAuthn
 * keys: someone who lost their phone and key needs all of them gone) and
 * ends its sessions. A refusal changes nothing and is audited.
 */
export const resetMfa = (kit: AccountKit) => (caller: Caller, targetId: UserId) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const outcome = yield* kit.revoking(kit.stored(kit.store.resetMfa(caller.userId, targetId, now)))
    if (outcome._tag !== "Done") {
      const reason = outcome._tag === "Forbidden" ? outcome.message : "no such account"
      yield* kit.audit.record({ actor: caller.userId, action: "admin.mfa_reset.denied", target: targetId, details: { reason } })
      return yield* refused(outcome, targetId)
    }
    const { removed, revoked } = outcome
    yield* Effect.logInfo("MFA reset by an admin", { by: caller.userId, userId: targetId, revokedSessions: revoked, ...removed })
    yield* kit.audit.record({ actor: caller.userId, action: "admin.mfa_reset", target: targetId, details: { revoked, ...removed } })
    return { userId: targetId, revoked, removed } satisfies MfaReset
  })
