/**
 * What the account operations (`SignIn.ts`, `SessionControl.ts`) share:
 * the settings, the store, the password hasher and rules, the access-token
 * issuer, and the helpers that mint sessions and token answers.
 */
import { createHash, randomBytes } from "node:crypto"
import type { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect } from "effect"
import type { TokenResponse, WorkspaceRole } from "../../domain/Auth.ts"
import { InvalidCredentials } from "../../domain/AuthErrors.ts"
import { ServiceUnavailable } from "../../domain/Errors.ts"
import { SessionId, UserId } from "../../domain/Ids.ts"
import { AccessTokens } from "./AccessTokens.ts"
import { AccountStore, type Device, type NewSession } from "./AccountStore.ts"
import { AuthConfig } from "./AuthConfig.ts"
import { LoginThrottle } from "./LoginThrottle.ts"
import { makePasswordHasher } from "./PasswordHasher.ts"
import { loadCommonPasswords, makePasswordPolicy } from "./PasswordPolicy.ts"

/** The caller of a session operation: a user and, for an access token, its session. */
export interface Caller {
  readonly userId: UserId
  readonly sessionId?: SessionId
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

export const makeAccountKit = Effect.gen(function*() {
  const config = yield* AuthConfig
  const store = yield* AccountStore
  const access = yield* AccessTokens
  const throttle = yield* LoginThrottle
  const hasher = yield* makePasswordHasher(config.argon2, config.hashConcurrency)
  const policy = makePasswordPolicy(
    { minLength: config.passwordMinLength, maxLength: config.passwordMaxLength },
    yield* Effect.sync(loadCommonPasswords)
  )
  const refreshTtlMs = Duration.toMillis(config.refreshTtl)

  /** Store failures: logged, and answered `ServiceUnavailable` (the caller may retry). */
  const stored = <A>(effect: Effect.Effect<A, SqlError>): Effect.Effect<A, ServiceUnavailable> =>
    Effect.catchTag(effect, "SqlError", (error) =>
      Effect.zipRight(
        Effect.logError("account store failed", error),
        Effect.fail(new ServiceUnavailable({ reason: "account store unavailable" }))
      ))

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

  /** The token answer: a fresh access token for the session, with its refresh token. */
  const tokens = (
    account: { readonly userId: UserId; readonly username: string; readonly role: WorkspaceRole },
    sessionId: SessionId,
    refreshToken: string,
    refreshTokenExpiresAt: number
  ): Effect.Effect<TokenResponse> =>
    Effect.map(access.issue(account.userId, sessionId), (issued) => ({
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

  return { config, store, hasher, policy, refreshTtlMs, stored, newSession, tokens, throttle } as const
})

export type AccountKit = Effect.Effect.Success<typeof makeAccountKit>
