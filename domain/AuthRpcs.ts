/**
 * The account operations as typed RPCs (`/rpc`), the same as the REST paths
 * under `/api/v1/auth/` (docs/SECURITY.md): `AuthRpcs` need no token
 * (registration, sign-in and its second step, refresh, OpenID Connect sign-in), `SessionRpcs`
 * and `OidcAccountRpcs` act for the caller of an access token.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { RpcAuthentication } from "./Api.ts"
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
import { Forbidden, InvalidRequest, RateLimited, ServiceUnavailable, Unauthorized } from "./Errors.ts"
import { SignInLocked } from "./LoginProtection.ts"
import { SessionId } from "./Ids.ts"
import { InvalidMfaCode, MfaRequired } from "./MfaErrors.ts"
import { CompleteMfa } from "./MfaRpcs.ts"
import {
  OidcCallbackParams,
  OidcFailed,
  OidcIdentity,
  OidcIdentityTaken,
  OidcLinked,
  OidcProviderId,
  OidcProviderInfo,
  OidcProviderNotFound,
  OidcStarted,
  Unlinked
} from "./Oidc.ts"

/** Creates an account and signs it in (REST `POST /api/v1/auth/register`). */
export const Register = Rpc.make("Register", {
  payload: RegisterRequest,
  success: TokenResponse,
  error: Schema.Union(WeakPassword, UsernameTaken, EmailTaken, RegistrationClosed, RateLimited, ServiceUnavailable)
})

/**
 * Signs in: a new session with its token pair (REST `POST /api/v1/auth/login`).
 * With MFA on it fails with `MfaRequired` (no session yet): complete it with
 * `CompleteMfa` (domain/MfaRpcs.ts).
 */
export const Login = Rpc.make("Login", {
  payload: LoginRequest,
  success: TokenResponse,
  error: Schema.Union(InvalidCredentials, MfaRequired, AccountDisabled, RateLimited, SignInLocked, ServiceUnavailable)
})

/** Exchanges a refresh token for a new pair; the old one stops working (REST `POST /api/v1/auth/refresh`). */
export const Refresh = Rpc.make("Refresh", {
  payload: RefreshRequest,
  success: TokenResponse,
  error: Schema.Union(InvalidRefreshToken, AccountDisabled, RateLimited, ServiceUnavailable)
})

const OidcFailure = Schema.Union(OidcProviderNotFound, ServiceUnavailable)
/** The OIDC operations of a signed-in account (a missing or refused token is the middleware's `Unauthorized`). */
const OidcAccountFailure = Schema.Union(OidcProviderNotFound, ServiceUnavailable)
const ProviderPayload = Schema.Struct({ provider: OidcProviderId })

/** The configured OpenID Connect providers. */
export const OidcProviders = Rpc.make("OidcProviders", { payload: {}, success: Schema.Array(OidcProviderInfo) })

/**
 * Starts an OpenID Connect sign-in: send the user to `authorizationUrl`.
 * Each start stores a flow: `RateLimited` past the per-address budget.
 */
export const OidcStart = Rpc.make("OidcStart", { payload: ProviderPayload, success: OidcStarted, error: Schema.Union(OidcFailure, RateLimited) })

/** Completes it with the query the provider sent to the redirect URI (`code`, `state`, `iss`, or `error`). */
export const OidcComplete = Rpc.make("OidcComplete", {
  payload: Schema.extend(ProviderPayload, OidcCallbackParams),
  success: TokenResponse,
  error: Schema.Union(OidcFailure, OidcFailed, OidcIdentityTaken, RegistrationClosed, MfaRequired, AccountDisabled)
})

export class AuthRpcs extends RpcGroup.make(Register, Login, CompleteMfa, Refresh, OidcProviders, OidcStart, OidcComplete) {}

/** Ends the session of the access token (REST `POST /api/v1/auth/logout`). */
export const Logout = Rpc.make("Logout", { payload: {}, success: Revoked, error: Schema.Union(ServiceUnavailable) })

/** The caller's active sessions, newest first. */
export const ListSessions = Rpc.make("ListSessions", {
  payload: {},
  success: Schema.Array(SessionInfo),
  error: Schema.Union(ServiceUnavailable)
})

/** Ends one of the caller's sessions. */
export const RevokeSession = Rpc.make("RevokeSession", {
  payload: { sessionId: SessionId },
  success: Revoked,
  error: Schema.Union(SessionNotFound, ServiceUnavailable)
})

/** Ends every session of the caller, this one included. */
export const RevokeAllSessions = Rpc.make("RevokeAllSessions", {
  payload: {},
  success: Revoked,
  error: Schema.Union(ServiceUnavailable)
})

/** Changes the password; every other session of the caller ends. */
export const ChangePassword = Rpc.make("ChangePassword", {
  payload: ChangePasswordRequest,
  success: Revoked,
  error: Schema.Union(InvalidCredentials, WeakPassword, ServiceUnavailable)
})

/**
 * Sets a first password on an account without one (OIDC; REST
 * `POST /api/v1/auth/password/set`). With TOTP on, `code` is needed
 * (`InvalidRequest` without it, `InvalidMfaCode` when refused); an account
 * with a password gets `PasswordAlreadySet`; `Unauthorized` when the
 * token's account no longer exists. Other sessions stay open.
 */
export const SetPassword = Rpc.make("SetPassword", {
  payload: SetPasswordRequest,
  success: PasswordSet,
  error: Schema.Union(PasswordAlreadySet, WeakPassword, InvalidMfaCode, InvalidRequest, Unauthorized, ServiceUnavailable)
})

export class SessionRpcs extends RpcGroup.make(Logout, ListSessions, RevokeSession, RevokeAllSessions, ChangePassword, SetPassword).middleware(
  RpcAuthentication
) {}

/** Starts linking an identity of the provider to the caller's account. */
export const OidcLink = Rpc.make("OidcLink", { payload: ProviderPayload, success: OidcStarted, error: OidcAccountFailure })

/** Completes a link with the provider's query, by the account that started it. */
export const OidcCompleteLink = Rpc.make("OidcCompleteLink", {
  payload: Schema.extend(ProviderPayload, OidcCallbackParams),
  success: OidcLinked,
  error: Schema.Union(OidcAccountFailure, OidcFailed, OidcIdentityTaken)
})

/** The identities linked to the caller's account. */
export const OidcIdentities = Rpc.make("OidcIdentities", {
  payload: {},
  success: Schema.Array(OidcIdentity),
  error: Schema.Union(ServiceUnavailable)
})

/** Unlinks the caller's identity of the provider (not the account's only way to sign in). */
export const OidcUnlink = Rpc.make("OidcUnlink", {
  payload: ProviderPayload,
  success: Unlinked,
  error: Schema.Union(OidcAccountFailure, Forbidden)
})

export class OidcAccountRpcs extends RpcGroup.make(OidcLink, OidcCompleteLink, OidcIdentities, OidcUnlink).middleware(
  RpcAuthentication
) {}
