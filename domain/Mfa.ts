/**
 * Multi-factor sign-in: what the TOTP, backup-code and second-step
 * operations (`/api/v1/auth/totp`, `/auth/backup-codes`, `/auth/mfa`) take
 * and answer. Every client value is bounded here before anything runs; a
 * code of the wrong shape is simply a wrong code (`InvalidMfaCode`).
 */
import { Schema } from "effect"
import { PasswordField } from "./Auth.ts"

/**
 * A second factor a sign-in challenge can be completed with: a TOTP or
 * backup code at `POST /auth/mfa`, or a security key (`webauthn`) at
 * `POST /auth/mfa/webauthn/options` and `/verify`.
 */
export const MfaFactor = Schema.Literal("totp", "backup_code", "webauthn")
export type MfaFactor = typeof MfaFactor.Type

/**
 * A code as sent: a 6-digit TOTP code, or a backup code (16 characters,
 * spaces and dashes ignored, any case). Any string up to 64 characters is
 * accepted on the wire; one of another shape is a wrong code.
 */
export const MfaCodeField = Schema.String.pipe(Schema.maxLength(64))

/** A sign-in challenge as sent; ours are 46 characters, anything else is unknown. */
export const MfaChallengeField = Schema.String.pipe(Schema.maxLength(128))

/**
 * A pending TOTP enrolment: add `uri` to an authenticator app (it is also
 * the QR code's payload: render `qrPayload` as a QR code), or type `secret`
 * (base32) by hand; then prove it with `POST /api/v1/auth/totp/confirm`.
 */
export const TotpEnrolment = Schema.Struct({
  /** `otpauth://totp/<issuer>:<username>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30` */
  uri: Schema.String,
  /** The text to encode in a QR code: the same `otpauth://` URI. */
  qrPayload: Schema.String,
  /** The shared secret in base32 (RFC 4648, no padding), for manual entry. */
  secret: Schema.String,
  algorithm: Schema.Literal("SHA1"),
  digits: Schema.Literal(6),
  period: Schema.Literal(30)
})
export type TotpEnrolment = typeof TotpEnrolment.Type

export const MfaCodeRequest = Schema.Struct({ code: MfaCodeField })

/**
 * Proof that the caller is the account's owner for a sensitive MFA change
 * (disable, new backup codes): a current TOTP code or unused backup code
 * (`code`, consumed like at sign-in), or the account's password. Exactly one.
 */
export const MfaProofRequest = Schema.Struct({
  code: Schema.optional(MfaCodeField),
  password: Schema.optional(PasswordField)
})
export type MfaProofRequest = typeof MfaProofRequest.Type

/** Ten one-time backup codes, shown this once: the server keeps only their SHA-256. */
export const BackupCodes = Schema.Struct({ backupCodes: Schema.Array(Schema.String) })
export type BackupCodes = typeof BackupCodes.Type

/** The second sign-in step: the challenge of the `MfaRequired` answer and a TOTP or backup code. */
export const MfaCompleteRequest = Schema.Struct({
  challenge: MfaChallengeField,
  code: MfaCodeField
})

/** The caller's MFA state: TOTP off, enrolled but not confirmed (`pending`), or on; unused backup codes left. */
export const MfaStatus = Schema.Struct({
  totp: Schema.Literal("off", "pending", "on"),
  backupCodesLeft: Schema.Int
})
export type MfaStatus = typeof MfaStatus.Type

/** MFA was turned off. */
export const MfaDisabled = Schema.Struct({ totp: Schema.Literal("off") })
