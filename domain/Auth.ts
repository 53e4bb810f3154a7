/**
 * Accounts and sessions: what the sign-in operations (`/api/v1/auth/...`)
 * take and answer. Every client value is bounded here (type and size) before
 * any rule or hash runs; the rules that need configuration (password length,
 * the common-password list) are checked by src/auth/PasswordPolicy.ts and
 * fail with the typed errors of domain/AuthErrors.ts.
 */
import { Schema } from "effect"
import { SessionId, UserId } from "./Ids.ts"
import { StorableText } from "./Text.ts"

/** Workspace roles. The first account of an empty installation is `owner`, later ones `member`. */
export const WorkspaceRole = Schema.Literal("owner", "admin", "moderator", "member", "guest")
export type WorkspaceRole = typeof WorkspaceRole.Type

/**
 * A new account's username: 3 to 32 characters, letters, digits, `_`, `.`
 * and `-`, starting with a letter or digit. Unique without regard to case.
 */
export const Username = Schema.String.pipe(
  Schema.minLength(3),
  Schema.maxLength(32),
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
    message: () => "a username has letters, digits, '_', '.' and '-', and starts with a letter or digit"
  })
)

/** The most characters a password field may carry on the wire; the configured maximum is at most this. */
export const PASSWORD_FIELD_MAX = 1024

/** A password as sent: any string up to 1,024 characters (the configured rules are checked after decoding). */
export const PasswordField = Schema.String.pipe(Schema.maxLength(PASSWORD_FIELD_MAX))

/** A username as sent at login: any string up to 64 characters (an unknown one fails like a wrong password). */
export const LoginName = Schema.String.pipe(Schema.maxLength(64))

export const Email = Schema.String.pipe(
  Schema.maxLength(254),
  Schema.pattern(/^[^\s@]+@[^\s@]+$/, { message: () => "an email address has one '@' and no spaces" })
)

/** A name the client gives its device ("Alice's laptop"); shown in the session list. */
export const DeviceName = StorableText.pipe(Schema.maxLength(64))

/** A refresh token as sent; ours are 43 characters, anything else is simply unknown. */
export const RefreshTokenField = Schema.String.pipe(Schema.maxLength(256))

export const RegisterRequest = Schema.Struct({
  username: Username,
  password: PasswordField,
  email: Schema.optional(Email),
  deviceName: Schema.optional(DeviceName)
})

export const LoginRequest = Schema.Struct({
  username: LoginName,
  password: PasswordField,
  deviceName: Schema.optional(DeviceName)
})

export const RefreshRequest = Schema.Struct({ refreshToken: RefreshTokenField })

export const ChangePasswordRequest = Schema.Struct({ currentPassword: PasswordField, newPassword: PasswordField })

/**
 * A first password for an account without one (made by an OpenID Connect
 * sign-in). With TOTP on, `code` (a current TOTP code or an unused backup
 * code, at most 64 characters; consumed) is needed as proof.
 */
export const SetPasswordRequest = Schema.Struct({
  newPassword: PasswordField,
  code: Schema.optional(Schema.String.pipe(Schema.maxLength(64)))
})

/** A first password was set; the caller's other sessions stay open. */
export const PasswordSet = Schema.Struct({ userId: UserId, passwordSet: Schema.Literal(true) })
export type PasswordSet = typeof PasswordSet.Type

/**
 * The answer of register, login and refresh (sent with `Cache-Control:
 * no-store`). The access token is a short-lived signed JWT for every door
 * (`Authorization: Bearer`, `/ws?token=`, the `auth` frame); the refresh
 * token is opaque, single-use, and exchanged at `POST /api/v1/auth/refresh`
 * for a new pair. Times are milliseconds since the epoch.
 */
export const TokenResponse = Schema.Struct({
  tokenType: Schema.Literal("Bearer"),
  accessToken: Schema.String,
  accessTokenExpiresAt: Schema.Number,
  refreshToken: Schema.String,
  refreshTokenExpiresAt: Schema.Number,
  sessionId: SessionId,
  userId: UserId,
  username: Schema.String,
  role: WorkspaceRole
})
export type TokenResponse = typeof TokenResponse.Type

/** One signed-in device of the caller. `current` marks the session of the token that asked. */
export const SessionInfo = Schema.Struct({
  id: SessionId,
  deviceName: Schema.String,
  userAgent: Schema.String,
  ip: Schema.String,
  createdAt: Schema.Number,
  lastSeenAt: Schema.Number,
  expiresAt: Schema.Number,
  current: Schema.Boolean
})
export type SessionInfo = typeof SessionInfo.Type

/** How many sessions an operation ended. */
export const Revoked = Schema.Struct({ revoked: Schema.Int })
