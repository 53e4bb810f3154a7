/**
 * The caller's own sessions: sign-out, the list, revoking one or all, and
 * password change (which revokes every other session). Revoking a session
 * stops its refresh token at once, and its access tokens and sockets on
 * every node within the revocation poll interval (Revocations.ts).
 */
import { Clock, Effect, Option } from "effect"
import type { SessionInfo } from "../../domain/Auth.ts"
import { SessionNotFound } from "../../domain/AuthErrors.ts"
import type { ServiceUnavailable } from "../../domain/Errors.ts"
import type { SessionId } from "../../domain/Ids.ts"
import { type AccountKit, type Caller, invalidCredentials } from "./AccountKit.ts"

export const logout = (kit: AccountKit) => (caller: Caller) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const revoked = yield* kit.revoking(kit.stored(kit.store.revokeSession(caller.userId, caller.sessionId, now, "logout")))
    yield* kit.audit.record({ actor: caller.userId, action: "auth.logout", target: caller.sessionId, details: { revoked } })
    return { revoked }
  })

export const sessions = (kit: AccountKit) => (caller: Caller): Effect.Effect<Array<SessionInfo>, ServiceUnavailable> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => kit.stored(kit.store.listSessions(caller.userId, caller.sessionId, now)))

export const revoke = (kit: AccountKit) => (caller: Caller, sessionId: SessionId) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const revoked = yield* kit.revoking(kit.stored(kit.store.revokeSession(caller.userId, sessionId, now, "revoked")))
    if (revoked === 0) return yield* new SessionNotFound({ sessionId })
    yield* kit.audit.record({ actor: caller.userId, action: "auth.session_revoked", target: sessionId, details: { reason: "revoked" } })
    return { revoked }
  })

export const revokeAll = (kit: AccountKit) => (caller: Caller) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const revoked = yield* kit.revoking(kit.stored(kit.store.revokeSessions(caller.userId, undefined, now, "revoked_all")))
    yield* kit.audit.record({ actor: caller.userId, action: "auth.sessions_revoked", target: caller.userId, details: { revoked } })
    return { revoked }
  })

export const changePassword = (kit: AccountKit) => (caller: Caller, currentPassword: string, newPassword: string) =>
  Effect.gen(function*() {
    const found = yield* kit.stored(kit.store.findByUserId(caller.userId))
    if (Option.isNone(found)) {
      yield* kit.hasher.verifyNobody(currentPassword)
      return yield* invalidCredentials()
    }
    const account = found.value
    if (!(yield* kit.hasher.verify(account.passwordHash, currentPassword))) {
      yield* kit.audit.record({ actor: caller.userId, action: "auth.password_change_failed", target: caller.userId, details: { reason: "wrong current password" } })
      return yield* invalidCredentials()
    }
    yield* kit.policy(newPassword, account.username)
    const passwordHash = yield* kit.hasher.hash(newPassword)
    const now = yield* Clock.currentTimeMillis
    yield* kit.stored(kit.store.updatePasswordHash(account.userId, passwordHash, now))
    const revoked = yield* kit.revoking(kit.stored(kit.store.revokeSessions(account.userId, caller.sessionId, now, "password_changed")))
    yield* Effect.logInfo("password changed", { userId: account.userId, revokedSessions: revoked })
    yield* kit.audit.record({ actor: account.userId, action: "auth.password_changed", target: account.userId, details: { revokedSessions: revoked } })
    return { revoked }
  })
