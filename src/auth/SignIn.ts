/**
 * Registration, sign-in and refresh: each answers a token pair.
 *
 * - An unknown username and a wrong password fail alike (`InvalidCredentials`),
 *   after the same Argon2 work, so sign-in does not tell which usernames exist.
 * - Registration takes a token of the address's registration budget, and a
 *   sign-in is judged by the login throttle (`LoginThrottle.ts`) before any
 *   password work: delayed (`RateLimited`) or locked (`SignInLocked`).
 * - A refresh token is single-use: refreshing rotates it, and a used one
 *   presented again revokes its session (it leaked, or a client raced itself).
 */
import { Clock, Effect, Option } from "effect"
import type { WorkspaceRole } from "../../domain/Auth.ts"
import { EmailTaken, InvalidRefreshToken, RegistrationClosed, UsernameTaken } from "../../domain/AuthErrors.ts"
import type { UserId } from "../../domain/Ids.ts"
import type { SecondFactorGate } from "./mfa/Mfa.ts"
import {
  accountDisabled,
  type AccountKit,
  type ClientInfo,
  deviceOf,
  invalidCredentials,
  newRefreshToken,
  newUserId,
  refreshHashOf
} from "./AccountKit.ts"

export interface Registering {
  readonly username: string
  readonly password: string
  readonly email?: string | undefined
}

export const register = (kit: AccountKit) => (input: Registering, client: ClientInfo) =>
  Effect.gen(function*() {
    const mode = kit.config.registration
    const refused = (message: string) =>
      Effect.zipRight(
        kit.audit.record({ action: "auth.register.denied", ip: client.ip, details: { username: input.username, reason: message } }),
        Effect.fail(new RegistrationClosed({ message }))
      )
    if (mode === "closed") return yield* refused("registration is closed on this installation")
    yield* kit.policy(input.password, input.username)
    // After the cheap rules (a weak password costs no token), before the hash.
    yield* kit.throttle.register(client.ip)
    const passwordHash = yield* kit.hasher.hash(input.password)
    const now = yield* Clock.currentTimeMillis
    const userId = newUserId()
    const { refreshToken, session } = kit.newSession(userId, client, now)
    const outcome = yield* kit.stored(kit.store.register(
      { userId, username: input.username, email: Option.fromNullable(input.email), passwordHash, now },
      session,
      mode === "first"
    ))
    switch (outcome._tag) {
      case "NotFirst":
        return yield* refused("registration is closed: this installation has its owner")
      case "UsernameTaken":
        return yield* new UsernameTaken({ message: "this username is taken" })
      case "EmailTaken":
        return yield* new EmailTaken({ message: "an account with this email address exists" })
      case "Registered":
        yield* Effect.logInfo("account registered", { userId, role: outcome.role })
        yield* kit.audit.record({
          actor: userId,
          action: "auth.register",
          target: userId,
          ip: client.ip,
          details: { username: input.username, role: outcome.role, sessionId: session.id }
        })
        return yield* kit.tokens({ userId, username: input.username, role: outcome.role }, session.id, refreshToken, session.expiresAt)
    }
  })

export const login = (kit: AccountKit, secondFactor: SecondFactorGate) => (input: { readonly username: string; readonly password: string }, client: ClientInfo) =>
  Effect.gen(function*() {
    // Counted as a failure from here on; only a correct password clears it. An unknown username is throttled alike.
    const ticket = yield* kit.throttle.admit(input.username, client.ip)
    const found = yield* kit.stored(kit.store.findByUsername(input.username))
    const failed = (target: string | null) =>
      Effect.zipRight(
        kit.audit.record({ action: "auth.login_failed", target, ip: client.ip, details: { username: input.username } }),
        Effect.zipRight(kit.throttle.failed(ticket), Effect.fail(invalidCredentials()))
      )
    if (Option.isNone(found)) {
      yield* kit.hasher.verifyNobody(input.password)
      return yield* failed(null)
    }
    const account = found.value
    if (!(yield* kit.hasher.verify(account.passwordHash, input.password))) return yield* failed(account.userId)
    // A correct password clears the throttle, also when a second factor or a disable follows.
    yield* kit.throttle.succeeded(ticket)
    // Told only to the holder of the right password, so it reveals nothing to a guesser.
    if (account.disabled) return yield* accountDisabled()
    const now = yield* Clock.currentTimeMillis
    if (kit.hasher.needsRehash(account.passwordHash)) {
      // The configured cost changed since this hash was made: store one at today's cost (best effort).
      yield* kit.hasher.hash(input.password).pipe(
        Effect.flatMap((hashed) => kit.store.updatePasswordHash(account.userId, hashed, now)),
        Effect.catchAllCause((cause) => Effect.logWarning("password rehash failed", cause))
      )
    }
    // With MFA on, this answers MfaRequired: no session until the second step (mfa/MfaChallenge.ts).
    yield* secondFactor(account, client, now)
    return yield* openSession(kit)(account, client, now)
  })

/**
 * A new session for an account whose owner has proven who they are (a
 * password, a security key), answered as a token pair. Inside a caller's
 * transaction the session is part of it.
 */
export const openSession = (kit: AccountKit) =>
(
  account: { readonly userId: UserId; readonly username: string; readonly role: WorkspaceRole },
  client: ClientInfo,
  now: number
) =>
  Effect.gen(function*() {
    const { refreshToken, session } = kit.newSession(account.userId, client, now)
    // AccountDisabled when a disable committed since the account was read.
    yield* kit.stored(kit.store.createSession(session))
    yield* kit.audit.record({ actor: account.userId, action: "auth.login", target: session.id, ip: client.ip, details: { username: account.username } })
    return yield* kit.tokens(account, session.id, refreshToken, session.expiresAt)
  })

const revokedSession = () => new InvalidRefreshToken({ reason: "revoked", message: "this session was ended; sign in again" })

export const refresh = (kit: AccountKit) => (refreshToken: string, client: ClientInfo) =>
  Effect.gen(function*() {
    yield* kit.throttle.refresh(client.ip)
    const now = yield* Clock.currentTimeMillis
    const next = newRefreshToken()
    const expiresAt = now + kit.refreshTtlMs
    const outcome = yield* kit.stored(kit.store.rotate({
      ...deviceOf(client),
      presentedHash: refreshHashOf(refreshToken),
      nextHash: refreshHashOf(next),
      now,
      expiresAt
    }))
    switch (outcome._tag) {
      case "Unknown":
        return yield* new InvalidRefreshToken({ reason: "unknown", message: "this refresh token is not valid" })
      case "Expired":
        return yield* new InvalidRefreshToken({ reason: "expired", message: "this refresh token has expired; sign in again" })
      case "Revoked":
        return yield* revokedSession()
      case "Disabled":
        return yield* accountDisabled()
      case "Reused":
        yield* kit.revoking(Effect.logWarning("refresh token reused: session revoked", { sessionId: outcome.sessionId }))
        yield* kit.audit.record({
          action: "auth.session_revoked",
          target: outcome.sessionId,
          ip: client.ip,
          details: { reason: "refresh_token_reused" }
        })
        return yield* new InvalidRefreshToken({
          reason: "reused",
          message: "this refresh token was already used, so the session was ended; sign in again"
        })
      case "Refreshed": {
        const account = yield* kit.stored(kit.store.findByUserId(outcome.userId))
        if (Option.isNone(account)) return yield* revokedSession()
        return yield* kit.tokens(account.value, outcome.sessionId, next, expiresAt)
      }
    }
  })
