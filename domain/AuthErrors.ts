/**
 * Typed failures of sign-in and session management, each with the HTTP
 * status the REST API answers with. None of them says whether a username
 * exists, except registration's `UsernameTaken` (which a sign-up form has to).
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"
import { SessionId } from "./Ids.ts"

/** Wrong username or password: the same error and the same work for an unknown user and a wrong password. */
export class InvalidCredentials extends Schema.TaggedError<InvalidCredentials>()(
  "InvalidCredentials",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** Why a new password was refused. */
export const WeakPasswordReason = Schema.Literal("too_short", "too_long", "common", "matches_username")

/** The new password breaks a rule (`reason`); `message` says which, with the configured bounds. */
export class WeakPassword extends Schema.TaggedError<WeakPassword>()(
  "WeakPassword",
  { reason: WeakPasswordReason, message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

/** Another account has this username (compared without regard to case). */
export class UsernameTaken extends Schema.TaggedError<UsernameTaken>()(
  "UsernameTaken",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** Another account has this email address (compared without regard to case). */
export class EmailTaken extends Schema.TaggedError<EmailTaken>()(
  "EmailTaken",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** Registration is closed by configuration (`PLEXI_AUTH_REGISTRATION=closed`), or only the first account may register. */
export class RegistrationClosed extends Schema.TaggedError<RegistrationClosed>()(
  "RegistrationClosed",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

/**
 * The refresh token is not one this server holds (`unknown`), has expired,
 * belongs to a revoked session, or was already used (`reused`): a used
 * token presented again means it leaked, so its whole session is revoked.
 */
export class InvalidRefreshToken extends Schema.TaggedError<InvalidRefreshToken>()(
  "InvalidRefreshToken",
  { reason: Schema.Literal("unknown", "expired", "revoked", "reused"), message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** No session of the caller has this id (another user's session is reported the same way). */
export class SessionNotFound extends Schema.TaggedError<SessionNotFound>()(
  "SessionNotFound",
  { sessionId: SessionId },
  HttpApiSchema.annotations({ status: 404 })
) {}

/**
 * The account was disabled by a workspace owner or admin: it cannot sign in
 * (told only after the right password) or refresh, and its sessions ended.
 */
export class AccountDisabled extends Schema.TaggedError<AccountDisabled>()(
  "AccountDisabled",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

/**
 * The account already has a password: setting a first password is only for
 * an account made without one (OpenID Connect); change it with
 * `POST /api/v1/auth/password` instead.
 */
export class PasswordAlreadySet extends Schema.TaggedError<PasswordAlreadySet>()(
  "PasswordAlreadySet",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}
