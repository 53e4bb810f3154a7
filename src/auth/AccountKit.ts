/**
 * What the account operations (`SignIn.ts`, `SessionControl.ts`) share:
 * the settings, the store, the password hasher and rules, the access-token
 * issuer, the audit log (every operation records its outcome), and the helpers that mint sessions and token answers.
 */
import { createHash, randomBytes } from "node:crypto"
import type { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Predicate } from "effect"
import type { TokenResponse, WorkspaceRole } from "../../domain/Auth.ts"
import { InvalidCredentials } from "../../domain/AuthErrors.ts"
import { ServiceUnavailable } from "../../domain/Errors.ts"
import { SessionId, UserId } from "../../domain/Ids.ts"
import { AuditLog } from "../audit/AuditLog.ts"
import { AccessTokens } from "./AccessTokens.ts"
import { AccountStore, type Device, type NewSession } from "./AccountStore.ts"
import { AuthConfig } from "./AuthConfig.ts"
import { LoginThrottle } from "./LoginThrottle.ts"
import { makePasswordHasher } from "./PasswordHasher.ts"
import { loadCommonPasswords, makePasswordPolicy } from "./PasswordPolicy.ts"
import { Revocations } from "./Revocations.ts"

/** The caller of a session operation: a user and the session its access token names. */
export interface Caller {
  readonly userId: UserId
  readonly sessionId: SessionId
}

/** What the client says about itself when it signs in. */
export interface ClientInfo {
  readonly deviceName?: string | undefined
  readonly userAgent?: string | undefined
  readonly ip: string
}

export const newUserId = (): UserId => UserId.make(`u_${randomBytes(12).toString("base64url")}`)
export const newSessionId = (): SessionId => SessionId.make(`s_${randomBytes(16).toString("base64url")}`)
export const newRefreshToken = (): string => randomBytes(32).toString("base64url")
export const refreshHashOf = (token: string): string => createHash("sha256").update(token, "utf8").digest("hex")

export const deviceOf = (client: ClientInfo): Device => ({
  deviceName: client.deviceName ?? "",
  userAgent: (client.userAgent ?? "").slice(0, 256),
  ip: client.ip.slice(0, 64)
})

export const invalidCredentials = () => new InvalidCredentials({ message: "wrong username or password" })

export { accountDisabled } from "./store/SessionRows.ts"

export const makeAccountKit = Effect.gen(function*() {
  const config = yield* AuthConfig
  const store = yield* AccountStore
  const access = yield* AccessTokens
  const revocations = yield* Revocations
  const audit = yield* AuditLog
  const throttle = yield* LoginThrottle
  const hasher = yield* makePasswordHasher(config.argon2, config.hashConcurrency)
  const policy = makePasswordPolicy(
    { minLength: config.passwordMinLength, maxLength: config.passwordMaxLength },
    yield* Effect.sync(loadCommonPasswords)
  )
  const refreshTtlMs = Duration.toMillis(config.refreshTtl)

  /** Store failures: logged, and answered `ServiceUnavailable` (the caller may retry); a typed refusal of the store passes. */
  const stored = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, Exclude<E, SqlError> | ServiceUnavailable> =>
    Effect.catchAll(effect, (error): Effect.Effect<never, Exclude<E, SqlError> | ServiceUnavailable> =>
      Predicate.isTagged(error, "SqlError")
        ? Effect.zipRight(
          Effect.logError("account store failed", error),
          Effect.fail(new ServiceUnavailable({ reason: "account store unavailable" }))
        )
        : Effect.fail(error as Exclude<E, SqlError>))

  /** A new session row for `userId` and the refresh token whose hash it stores. */
  const newSession = (userId: UserId, client: ClientInfo, now: number) => {
    const refreshToken = newRefreshToken()
    const session: NewSession = {
      ...deviceOf(client),
      id: newSessionId(),
      userId,
      refreshHash: refreshHashOf(refreshToken),
      now,
      expiresAt: now + refreshTtlMs
    }
    return { session, refreshToken }
  }

  /**
   * The store just opened a session for this account, so it is enabled; if
   * this node has not read the enable yet, it reads it now, so that the
   * tokens it answers work here at once (other nodes follow within their poll).
   */
  const caughtUp = (userId: UserId) =>
    revocations.reasonFor(userId, undefined) === "account_disabled" ? revocations.refresh : Effect.void

  /** The token answer: a fresh access token for the session, with its refresh token. */
  const tokens = (
    account: { readonly userId: UserId; readonly username: string; readonly role: WorkspaceRole },
    sessionId: SessionId,
    refreshToken: string,
    refreshTokenExpiresAt: number
  ): Effect.Effect<TokenResponse> =>
    Effect.map(Effect.zipRight(caughtUp(account.userId), access.issue(account.userId, sessionId)), (issued) => ({
      tokenType: "Bearer" as const,
      accessToken: issued.token,
      accessTokenExpiresAt: issued.expiresAt,
      refreshToken,
      refreshTokenExpiresAt,
      sessionId,
      userId: account.userId,
      username: account.username,
      role: account.role
    }))

  /**
   * Runs a store operation that ends sessions, then reads the revocations at
   * once, so this node refuses their tokens (and closes their sockets) before
   * it answers; the other nodes follow within their poll interval.
   */
  const revoking = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.zipLeft(effect, revocations.refresh)

  return { config, store, hasher, policy, refreshTtlMs, stored, revoking, newSession, tokens, audit, throttle } as const
})

export type AccountKit = Effect.Effect.Success<typeof makeAccountKit>
