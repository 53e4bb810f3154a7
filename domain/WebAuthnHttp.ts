/**
 * The REST contract of WebAuthn security keys (`/api/v1/auth/webauthn/...`),
 * part of `PlexiHttpApi` (domain/Http.ts). Schemas are in domain/WebAuthn.ts,
 * failures in domain/WebAuthnErrors.ts.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TokenResponse } from "./Auth.ts"
import { RateLimited, ServiceUnavailable } from "./Errors.ts"
import { SignInLocked } from "./LoginProtection.ts"
import { AccountDisabled, InvalidCredentials } from "./AuthErrors.ts"
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
 * Sign-in with a security key, no token needed: passwordless (a
 * discoverable WebAuthn credential with user verification), or as the
 * second step of a password sign-in that answered `MfaRequired`. Off (403
 * `WebAuthnDisabled`) unless PLEXI_WEBAUTHN_RP_ID is set.
 */
export class WebAuthnApi extends HttpApiGroup.make("webauthn")
  .add(
    HttpApiEndpoint.post("loginOptions", "/auth/webauthn/login/options")
      .addSuccess(AuthenticationOptionsAnswer)
      .addError(RateLimited)
      .annotate(
        OpenApi.Description,
        "Options for navigator.credentials.get (any discoverable key, user verification required) and the challenge id to send back. " +
          "Each call stores a challenge: past the per-address budget (PLEXI_WEBAUTHN_OPTIONS_IP_BURST, PLEXI_WEBAUTHN_OPTIONS_IP_REFILL), 429 RateLimited."
      )
  )
  .add(
    HttpApiEndpoint.post("login", "/auth/webauthn/login/verify")
      .setPayload(AuthenticationVerifyRequest)
      .addSuccess(TokenResponse)
      .addError(WebAuthnAuthenticationRefused)
      .addError(RateLimited)
      .addError(SignInLocked)
      .annotate(
        OpenApi.Description,
        "Verifies the browser's assertion and signs in: a new session with an access and a refresh token. A refused assertion " +
          "counts as a failed sign-in of the key's account from this address, as a wrong password does: after repeated failures, " +
          "429 RateLimited (wait retryAfterMs) or 429 SignInLocked (see docs/SECURITY.md)."
      )
  )
  .add(
    HttpApiEndpoint.post("mfaOptions", "/auth/mfa/webauthn/options")
      .setPayload(MfaWebAuthnOptionsRequest)
      .addSuccess(AuthenticationOptionsAnswer)
      .addError(InvalidMfaChallenge)
      .addError(WebAuthnAuthenticationRefused)
      .annotate(
        OpenApi.Description,
        "The two-step sign-in with a security key: options for navigator.credentials.get with the keys of the user of " +
          "`challenge` (from a 401 `MfaRequired` whose `factors` has `webauthn`)."
      )
  )
  .add(
    HttpApiEndpoint.post("mfaVerify", "/auth/mfa/webauthn/verify")
      .setPayload(MfaWebAuthnVerifyRequest)
      .addSuccess(TokenResponse)
      .addError(InvalidMfaChallenge)
      .addError(WebAuthnAuthenticationRefused)
      .annotate(
        OpenApi.Description,
        "Completes the two-step sign-in with the assertion: the MFA challenge is used up and a session opens. A refused " +
          "assertion changes nothing (no attempt is counted)."
      )
  )
  .addError(AccountDisabled)
  .addError(WebAuthnDisabled)
  .addError(ServiceUnavailable)
{}

const keyId = HttpApiSchema.param("keyId", KeyIdParam)

/**
 * The caller's security keys; an access token (Bearer) is needed (domain/Http.ts adds the
 * `HttpAuthentication` middleware when it adds this group).
 */
export class WebAuthnKeysApi extends HttpApiGroup.make("webauthnKeys")
  .add(
    HttpApiEndpoint.post("registrationOptions", "/auth/webauthn/register/options")
      .setPayload(RegistrationOptionsRequest)
      .addSuccess(RegistrationOptionsAnswer)
      .addError(WebAuthnKeyLimit)
      .addError(WebAuthnRegistrationRefused)
      .addError(InvalidCredentials)
      .addError(InvalidMfaCode)
      .annotate(
        OpenApi.Description,
        "Options for navigator.credentials.create and the challenge id to send back; `name` names the new key. Needs a " +
          "proof besides the token: a current TOTP or backup code (`code`, consumed) or the password, exactly one " +
          "(400 `InvalidRequest` otherwise)."
      )
  )
  .add(
    HttpApiEndpoint.post("register", "/auth/webauthn/register/verify")
      .setPayload(RegistrationVerifyRequest)
      .addSuccess(WebAuthnKey, { status: 201 })
      .addError(WebAuthnRegistrationRefused)
      .addError(WebAuthnKeyLimit)
      .annotate(OpenApi.Description, "Verifies the browser's answer and stores the key.")
  )
  .add(
    HttpApiEndpoint.get("list", "/auth/webauthn/keys")
      .addSuccess(Schema.Array(WebAuthnKey))
      .annotate(OpenApi.Description, "The caller's security keys, oldest first.")
  )
  .add(
    HttpApiEndpoint.del("delete")`/auth/webauthn/keys/${keyId}`
      .addSuccess(Schema.Struct({ deleted: Schema.Int }))
      .addError(WebAuthnKeyNotFound)
      .annotate(OpenApi.Description, "Deletes one of the caller's keys; it cannot sign in any more.")
  )
  .addError(WebAuthnDisabled)
  .addError(ServiceUnavailable)
{}
