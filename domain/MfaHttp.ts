/**
 * The REST contract of the caller's second factors (`/api/v1/auth/totp...`,
 * `/auth/backup-codes`, `/auth/mfa/status`), a group of `PlexiHttpApi`
 * (domain/Http.ts). The second sign-in step, `POST /auth/mfa`, needs no
 * token and is in the `auth` group there.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { InvalidCredentials } from "./AuthErrors.ts"
import { ServiceUnavailable } from "./Errors.ts"
import { HttpAuthentication } from "./HttpAuthentication.ts"
import { BackupCodes, MfaCodeRequest, MfaDisabled, MfaProofRequest, MfaStatus, TotpEnrolment } from "./Mfa.ts"
import { InvalidMfaCode, MfaNotEnabled, TotpAlreadyEnabled, TotpNotPending } from "./MfaErrors.ts"

/**
 * The caller's second factors; an access token (Bearer) is needed. TOTP is
 * pending after enrolment until a code confirms it; turning MFA off and new
 * backup codes need a current code or the password.
 */
export class MfaApi extends HttpApiGroup.make("mfa")
  .add(
    HttpApiEndpoint.get("status", "/auth/mfa/status")
      .addSuccess(MfaStatus)
      .annotate(OpenApi.Description, "Whether TOTP is off, pending or on, and how many unused backup codes are left.")
  )
  .add(
    HttpApiEndpoint.post("enrolTotp", "/auth/totp")
      .addSuccess(TotpEnrolment)
      .addError(TotpAlreadyEnabled)
      .annotate(
        OpenApi.Description,
        "Starts a TOTP enrolment (or restarts a pending one with a new secret): an otpauth:// URI, also the QR code's payload."
      )
  )
  .add(
    HttpApiEndpoint.post("confirmTotp", "/auth/totp/confirm")
      .setPayload(MfaCodeRequest)
      .addSuccess(BackupCodes)
      .addError(TotpNotPending)
      .addError(InvalidMfaCode)
      .annotate(
        OpenApi.Description,
        "Confirms the pending enrolment with a current code from the authenticator: MFA is on, and the answer holds " +
          "ten backup codes, shown this once."
      )
  )
  .add(
    HttpApiEndpoint.post("disable", "/auth/totp/disable")
      .setPayload(MfaProofRequest)
      .addSuccess(MfaDisabled)
      .addError(MfaNotEnabled)
      .addError(InvalidMfaCode)
      .addError(InvalidCredentials)
      .annotate(OpenApi.Description, "Turns MFA off (TOTP and backup codes), with a current code or the password (exactly one).")
  )
  .add(
    HttpApiEndpoint.post("regenerateBackupCodes", "/auth/backup-codes")
      .setPayload(MfaProofRequest)
      .addSuccess(BackupCodes)
      .addError(MfaNotEnabled)
      .addError(InvalidMfaCode)
      .addError(InvalidCredentials)
      .annotate(
        OpenApi.Description,
        "Ten new backup codes, shown this once; the old ones stop working. Needs a current code or the password (exactly one)."
      )
  )
  .addError(ServiceUnavailable)
  .middleware(HttpAuthentication)
{}
