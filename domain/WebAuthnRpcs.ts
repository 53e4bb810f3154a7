/**
 * WebAuthn security keys as typed RPCs (`/rpc`), the same as the REST paths
 * under `/api/v1/auth/webauthn/` and `/api/v1/auth/mfa/webauthn/`
 * (docs/SECURITY.md, "WebAuthn security keys"): `WebAuthnRpcs` need no token
 * (passwordless sign-in, the second factor of `Login`'s `MfaRequired`);
 * `WebAuthnKeyRpcs` act for the caller of an access token. Every refusal
 * writes nothing.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { RpcAuthentication } from "./Api.ts"
import { TokenResponse } from "./Auth.ts"
import { AccountDisabled, InvalidCredentials } from "./AuthErrors.ts"
import { InvalidRequest, RateLimited, ServiceUnavailable } from "./Errors.ts"
import { SignInLocked } from "./LoginProtection.ts"
import { InvalidMfaChallenge, InvalidMfaCode } from "./MfaErrors.ts"
import {
  AuthenticationOptionsAnswer,
  AuthenticationVerifyRequest,
  KeyIdParam,
  MfaWebAuthnOptionsRequest,
  MfaWebAuthnVerifyRequest,
  RegistrationOptionsAnswer,
  RegistrationOptionsRequest,
  RegistrationVerifyRequest,
  WebAuthnKey
} from "./WebAuthn.ts"
import {
  WebAuthnAuthenticationRefused,
  WebAuthnDisabled,
  WebAuthnKeyLimit,
  WebAuthnKeyNotFound,
  WebAuthnRegistrationRefused
} from "./WebAuthnErrors.ts"

/**
 * Options for a passwordless sign-in (REST `POST /api/v1/auth/webauthn/login/options`).
 * Each call stores a challenge: `RateLimited` past the per-address budget.
 */
export const WebAuthnLoginOptions = Rpc.make("WebAuthnLoginOptions", {
  payload: {},
  success: AuthenticationOptionsAnswer,
  error: Schema.Union(WebAuthnDisabled, RateLimited, ServiceUnavailable)
})

/**
 * Passwordless sign-in with the browser's assertion: the token pair (REST
 * `…/login/verify`). Judged and counted by the login throttle like a password
 * sign-in: `RateLimited` (the address's sign-in budget, or a delay after
 * failures) or `SignInLocked`.
 */
export const WebAuthnLogin = Rpc.make("WebAuthnLogin", {
  payload: AuthenticationVerifyRequest,
  success: TokenResponse,
  error: Schema.Union(WebAuthnAuthenticationRefused, WebAuthnDisabled, AccountDisabled, RateLimited, SignInLocked, ServiceUnavailable)
})

/** Options for completing `Login`'s `MfaRequired` with a security key (REST `POST /api/v1/auth/mfa/webauthn/options`). */
export const WebAuthnMfaOptions = Rpc.make("WebAuthnMfaOptions", {
  payload: MfaWebAuthnOptionsRequest,
  success: AuthenticationOptionsAnswer,
  error: Schema.Union(InvalidMfaChallenge, WebAuthnAuthenticationRefused, WebAuthnDisabled, AccountDisabled, ServiceUnavailable)
})

/** Completes `MfaRequired` with the assertion: the token pair (REST `…/mfa/webauthn/verify`). */
export const WebAuthnMfaVerify = Rpc.make("WebAuthnMfaVerify", {
  payload: MfaWebAuthnVerifyRequest,
  success: TokenResponse,
  error: Schema.Union(InvalidMfaChallenge, WebAuthnAuthenticationRefused, WebAuthnDisabled, AccountDisabled, ServiceUnavailable)
})

/**
 * Options for registering a key (REST `POST /api/v1/auth/webauthn/register/options`), with a proof: a current code
 * or the password, exactly one (`InvalidRequest` otherwise; `InvalidMfaCode` / `InvalidCredentials` when wrong).
 */
export const WebAuthnRegistrationOptions = Rpc.make("WebAuthnRegistrationOptions", {
  payload: RegistrationOptionsRequest,
  success: RegistrationOptionsAnswer,
  error: Schema.Union(
    WebAuthnKeyLimit,
    WebAuthnRegistrationRefused,
    WebAuthnDisabled,
    InvalidCredentials,
    InvalidMfaCode,
    InvalidRequest,
    ServiceUnavailable
  )
})

/** Verifies the browser's answer and stores the key (REST `…/register/verify`). */
export const WebAuthnRegister = Rpc.make("WebAuthnRegister", {
  payload: RegistrationVerifyRequest,
  success: WebAuthnKey,
  error: Schema.Union(WebAuthnRegistrationRefused, WebAuthnKeyLimit, WebAuthnDisabled, ServiceUnavailable)
})

/** The caller's keys, oldest first (REST `GET /api/v1/auth/webauthn/keys`). */
export const ListWebAuthnKeys = Rpc.make("ListWebAuthnKeys", {
  payload: {},
  success: Schema.Array(WebAuthnKey),
  error: Schema.Union(ServiceUnavailable)
})

/** Deletes one of the caller's keys (REST `DELETE /api/v1/auth/webauthn/keys/:id`). */
export const DeleteWebAuthnKey = Rpc.make("DeleteWebAuthnKey", {
  payload: { keyId: KeyIdParam },
  success: Schema.Struct({ deleted: Schema.Int }),
  error: Schema.Union(WebAuthnKeyNotFound, ServiceUnavailable)
})

export class WebAuthnRpcs extends RpcGroup.make(WebAuthnLoginOptions, WebAuthnLogin, WebAuthnMfaOptions, WebAuthnMfaVerify) {}

export class WebAuthnKeyRpcs extends RpcGroup.make(WebAuthnRegistrationOptions, WebAuthnRegister, ListWebAuthnKeys, DeleteWebAuthnKey)
  .middleware(RpcAuthentication)
{}
