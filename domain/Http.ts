/**
 * The REST contract (`/api/v1`), an `HttpApi` whose OpenAPI document is
 * served at `/api/v1/openapi.json`. It mirrors the typed RPC group for
 * clients that speak plain HTTP.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminUsersApi } from "./AdminUsers.ts"
import { AdminFlagsApi } from "./FlagsHttp.ts"
import { AdminRolesApi } from "./AdminRoles.ts"
import { AuditApi } from "./Audit.ts"
import { ChangePasswordRequest, LoginRequest, PasswordSet, RefreshRequest, RegisterRequest, Revoked, SessionInfo, SetPasswordRequest, TokenResponse } from "./Auth.ts"
import {
  AccountDisabled,
  EmailTaken,
  InvalidCredentials,
  InvalidRefreshToken,
  PasswordAlreadySet,
  RegistrationClosed,
  SessionNotFound,
  UsernameTaken,
  WeakPassword
} from "./AuthErrors.ts"
import { HttpAuthentication } from "./HttpAuthentication.ts"
import { MfaCompleteRequest } from "./Mfa.ts"
import { InvalidMfaChallenge, InvalidMfaCode, MfaRequired } from "./MfaErrors.ts"
import { MfaApi } from "./MfaHttp.ts"
import { AdminUnlockApi, SignInLocked } from "./LoginProtection.ts"
import { ChannelNotFound, InvalidRequest, RateLimited, ServiceUnavailable, Unauthorized } from "./Errors.ts"
import { OidcAccountApi, OidcApi } from "./OidcApi.ts"
import { HeadersTooLarge, InternalError, PayloadTooLarge, UnsupportedMediaType } from "./HttpErrors.ts"
import { ChannelId, SessionId } from "./Ids.ts"
import { WebAuthnApi, WebAuthnKeysApi } from "./WebAuthnHttp.ts"
import { NotReady, Readiness } from "./Readiness.ts"

export { HttpAuthentication } from "./HttpAuthentication.ts"

import { ChannelsApi, channelId } from "./ChannelsHttp.ts"

export { AfterSeqParam, ChannelsApi, LimitParam } from "./ChannelsHttp.ts"

export const Health = Schema.Struct({
  status: Schema.Literal("ok"),
  nodeId: Schema.String,
  websocketEngine: Schema.Literal("uws-native", "ws-fallback"),
  shards: Schema.Number,
  connections: Schema.Number,
  /** Channels this edge follows right now: one feed per channel with local subscribers. */
  feeds: Schema.Number,
  database: Schema.Literal("postgres", "pglite"),
  cluster: Schema.Literal("single", "multi")
})
export type Health = typeof Health.Type

/** Where a channel's shard lives, as seen from the node answering. */
export const ChannelLocation = Schema.Struct({
  channelId: ChannelId,
  shard: Schema.String,
  nodeId: Schema.String,
  ownedHere: Schema.Boolean
})

export class SystemApi extends HttpApiGroup.make("system")
  .add(HttpApiEndpoint.get("health", "/health").addSuccess(Health))
  .add(
    HttpApiEndpoint.get("ready", "/ready")
      .addSuccess(Readiness)
      .addError(NotReady)
      .annotate(
        OpenApi.Description,
        "Readiness: 200 when the node's database answers, it holds shards and it is not draining; otherwise 503 " +
          "NotReady with `reason` (draining, database_unreachable, no_shards). Liveness is /health."
      )
  )
  .add(
    HttpApiEndpoint.get("locate")`/cluster/channels/${channelId}`
      .addSuccess(ChannelLocation)
      .addError(ChannelNotFound)
      .addError(Unauthorized)
      .addError(ServiceUnavailable)
      .annotate(
        OpenApi.Description,
        "Where a channel's shard lives. An optional Bearer token names the caller; a missing channel and a private one the " +
          "caller is not a member of both answer 404 ChannelNotFound."
      )
  )
{}

const sessionId = HttpApiSchema.param("sessionId", SessionId)

/**
 * Sign-up, sign-in and token refresh: no token needed. Token answers carry
 * `Cache-Control: no-store`.
 */
export class AuthApi extends HttpApiGroup.make("auth")
  .add(
    HttpApiEndpoint.post("register", "/auth/register")
      .setPayload(RegisterRequest)
      .addSuccess(TokenResponse, { status: 201 })
      .addError(WeakPassword)
      .addError(UsernameTaken)
      .addError(EmailTaken)
      .addError(RegistrationClosed)
      .addError(RateLimited)
      .annotate(
        OpenApi.Description,
        "Creates an account and signs it in; the first account of an empty installation is the workspace owner. " +
          "429 RateLimited past the per-address registration budget (PLEXI_REGISTER_IP_BURST, PLEXI_REGISTER_IP_REFILL)."
      )
  )
  .add(
    HttpApiEndpoint.post("login", "/auth/login")
      .setPayload(LoginRequest)
      .addSuccess(TokenResponse)
      .addError(InvalidCredentials)
      .addError(MfaRequired)
      .addError(AccountDisabled)
      .addError(RateLimited)
      .addError(SignInLocked)
      .annotate(
        OpenApi.Description,
        "Signs in: a new session (device) with an access and a refresh token. With MFA on, the answer is 401 " +
          "`MfaRequired` with a short-lived `challenge` (no session yet): complete it at POST /auth/mfa. After repeated " +
          "failures, 429 RateLimited (wait retryAfterMs) or 429 SignInLocked (locked for this address; see docs/SECURITY.md)."
      )
  )
  .add(
    HttpApiEndpoint.post("completeMfa", "/auth/mfa")
      .setPayload(MfaCompleteRequest)
      .addSuccess(TokenResponse)
      .addError(InvalidMfaChallenge)
      .addError(InvalidMfaCode)
      .addError(AccountDisabled)
      .annotate(
        OpenApi.Description,
        "The second sign-in step: the challenge of `MfaRequired` and a TOTP or backup code. The challenge is " +
          "single-use and ends after PLEXI_AUTH_MFA_MAX_ATTEMPTS wrong codes; a refused code changes nothing but that count."
      )
  )
  .add(
    HttpApiEndpoint.post("refresh", "/auth/refresh")
      .setPayload(RefreshRequest)
      .addSuccess(TokenResponse)
      .addError(InvalidRefreshToken)
      .addError(AccountDisabled)
      .addError(RateLimited)
      .annotate(
        OpenApi.Description,
        "Exchanges a refresh token for a new pair; the old refresh token stops working, and presenting it again revokes the session."
      )
  )
  .addError(ServiceUnavailable)
  .annotate(OpenApi.Description, "Accounts: registration, sign-in (one or two steps) and token refresh.")
{}

/** The caller's own sessions; an access token (Bearer) is needed. */
export class SessionsApi extends HttpApiGroup.make("sessions")
  .add(
    HttpApiEndpoint.post("logout", "/auth/logout")
      .addSuccess(Revoked)
      .annotate(OpenApi.Description, "Ends the session of the access token; its refresh token stops working.")
  )
  .add(
    HttpApiEndpoint.get("list", "/auth/sessions")
      .addSuccess(Schema.Array(SessionInfo))
      .annotate(OpenApi.Description, "The caller's active sessions, newest first.")
  )
  .add(
    HttpApiEndpoint.del("revoke")`/auth/sessions/${sessionId}`
      .addSuccess(Revoked)
      .addError(SessionNotFound)
      .annotate(OpenApi.Description, "Ends one of the caller's sessions; its refresh token stops working.")
  )
  .add(
    HttpApiEndpoint.del("revokeAll", "/auth/sessions")
      .addSuccess(Revoked)
      .annotate(OpenApi.Description, "Ends every session of the caller, this one included.")
  )
  .add(
    HttpApiEndpoint.post("changePassword", "/auth/password")
      .setPayload(ChangePasswordRequest)
      .addSuccess(Revoked)
      .addError(InvalidCredentials)
      .addError(WeakPassword)
      .annotate(OpenApi.Description, "Changes the password; every other session of the caller is revoked (`revoked` counts them).")
  )
  .add(
    HttpApiEndpoint.post("setPassword", "/auth/password/set")
      .setPayload(SetPasswordRequest)
      .addSuccess(PasswordSet)
      .addError(PasswordAlreadySet)
      .addError(WeakPassword)
      .addError(InvalidMfaCode)
      .annotate(
        OpenApi.Description,
        "Sets a first password on an account that has none (made by an OpenID Connect sign-in); the password rules " +
          "apply, and with TOTP on a current TOTP or backup code (`code`, consumed) is needed (400 InvalidRequest " +
          "without it). 409 PasswordAlreadySet for an account with a password (change it at POST /auth/password). " +
          "The caller's other sessions stay open."
      )
  )
  .addError(ServiceUnavailable)
  .middleware(HttpAuthentication)
{}

export class PlexiHttpApi extends HttpApi.make("plexichat")
  .add(SystemApi)
  .add(AuthApi)
  .add(MfaApi)
  .add(SessionsApi)
  .add(OidcApi)
  .add(OidcAccountApi)
  .add(WebAuthnApi)
  .add(WebAuthnKeysApi.middleware(HttpAuthentication))
  .add(ChannelsApi)
  .add(AdminUsersApi.middleware(HttpAuthentication))
  .add(AdminRolesApi.middleware(HttpAuthentication))
  .add(AuditApi.middleware(HttpAuthentication))
  .add(AdminUnlockApi.middleware(HttpAuthentication))
  .add(AdminFlagsApi.middleware(HttpAuthentication))
  // Every endpoint: a malformed or too deeply nested JSON body (400), a body over PLEXI_HTTP_MAX_BODY_BYTES (413),
  // a body that is not application/json (415), headers over PLEXI_HTTP_MAX_HEADER_BYTES (431), a failure of the node (500, logged).
  .addError(InvalidRequest)
  .addError(PayloadTooLarge)
  .addError(HeadersTooLarge)
  .addError(UnsupportedMediaType)
  .addError(InternalError)
  .prefix("/api/v1")
  .annotate(OpenApi.Title, "PlexiChat API")
  .annotate(
    OpenApi.Description,
    "Request bodies are JSON (content-type: application/json), at most PLEXI_HTTP_MAX_BODY_BYTES (default 1 MiB) and " +
      "nested at most PLEXI_HTTP_MAX_JSON_DEPTH (default 32) deep; an empty body on an operation that takes one " +
      "answers 400 `InvalidRequest`. A path parameter its schema refuses (e.g. an over-long id) answers 400 " +
      "`HttpApiDecodeError` with clipped `path: problem` issues. Every error is a JSON body with a `_tag`; " +
      "an unknown path answers 404 `NotFound`."
  )
{}
