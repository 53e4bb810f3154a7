/**
 * Typed failures of the WebAuthn ceremonies, each with the HTTP status the
 * REST API answers with. A refused ceremony writes nothing: no key, no
 * session, no counter change, and its challenge stays as it was (it still
 * expires on time; a successful ceremony is what uses it up).
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"

/** WebAuthn is off: `PLEXI_WEBAUTHN_RP_ID` is not set on this installation. */
export class WebAuthnDisabled extends Schema.TaggedError<WebAuthnDisabled>()(
  "WebAuthnDisabled",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

/**
 * Why a ceremony was refused:
 * - `challenge`: unknown, expired, already used, or issued for another ceremony or user;
 * - `origin`: the browser's origin is not one of `PLEXI_WEBAUTHN_ORIGINS` (a phishing page, another site);
 * - `rp_id`: the authenticator signed for another relying party than `PLEXI_WEBAUTHN_RP_ID`;
 * - `unknown_key`: no key with this credential id (deleted, never registered, or not the signing user's);
 * - `counter`: the signature counter did not grow past the stored one (a cloned authenticator);
 * - `user_verification`: passwordless sign-in needs user verification (PIN, biometrics) and the authenticator did not do it;
 * - `already_registered`: this credential id is already registered;
 * - `invalid`: the response does not verify (signature, attestation, type, flags) or cannot be decoded.
 */
export const WebAuthnFailureReason = Schema.Literal(
  "challenge",
  "origin",
  "rp_id",
  "unknown_key",
  "counter",
  "user_verification",
  "already_registered",
  "invalid"
)
export type WebAuthnFailureReason = typeof WebAuthnFailureReason.Type

/** A registration was refused (`reason`); the caller stays signed in, no key is stored. */
export class WebAuthnRegistrationRefused extends Schema.TaggedError<WebAuthnRegistrationRefused>()(
  "WebAuthnRegistrationRefused",
  { reason: WebAuthnFailureReason, message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

/** An authentication (passwordless sign-in or second factor) was refused (`reason`); no session is made. */
export class WebAuthnAuthenticationRefused extends Schema.TaggedError<WebAuthnAuthenticationRefused>()(
  "WebAuthnAuthenticationRefused",
  { reason: WebAuthnFailureReason, message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** The caller has no key with this id (another user's key is reported the same way). */
export class WebAuthnKeyNotFound extends Schema.TaggedError<WebAuthnKeyNotFound>()(
  "WebAuthnKeyNotFound",
  { keyId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** The caller already has the most keys an account may have (`max`); delete one first. */
export class WebAuthnKeyLimit extends Schema.TaggedError<WebAuthnKeyLimit>()(
  "WebAuthnKeyLimit",
  { max: Schema.Int, message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}
