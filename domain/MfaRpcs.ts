/**
 * Multi-factor sign-in as typed RPCs (`/rpc`), the same as the REST paths
 * (docs/SECURITY.md, "Multi-factor sign-in"): `CompleteMfa` (in `AuthRpcs`,
 * domain/AuthRpcs.ts) needs no token; `MfaRpcs` act for the caller of an
 * access token.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { RpcAuthentication } from "./Api.ts"
import { TokenResponse } from "./Auth.ts"
import { AccountDisabled, InvalidCredentials } from "./AuthErrors.ts"
import { InvalidRequest, ServiceUnavailable, Unauthorized } from "./Errors.ts"
import { BackupCodes, MfaCodeRequest, MfaCompleteRequest, MfaDisabled, MfaProofRequest, MfaStatus, TotpEnrolment } from "./Mfa.ts"
import { InvalidMfaChallenge, InvalidMfaCode, MfaNotEnabled, TotpAlreadyEnabled, TotpNotPending } from "./MfaErrors.ts"

/**
 * The second sign-in step: the challenge of `Login`'s `MfaRequired` and a
 * TOTP or backup code (REST `POST /api/v1/auth/mfa`). Fails with
 * `InvalidMfaChallenge` (unknown, expired, used, too many attempts) or
 * `InvalidMfaCode` (wrong, replayed, used; only the attempt count is written).
 */
export const CompleteMfa = Rpc.make("CompleteMfa", {
  payload: MfaCompleteRequest,
  success: TokenResponse,
  error: Schema.Union(InvalidMfaChallenge, InvalidMfaCode, AccountDisabled, ServiceUnavailable)
})

/** Whether TOTP is off, pending or on, and the unused backup codes left. */
export const GetMfaStatus = Rpc.make("GetMfaStatus", {
  payload: {},
  success: MfaStatus,
  error: Schema.Union(ServiceUnavailable)
})

/**
 * Starts (or restarts) a TOTP enrolment: the `otpauth://` URI. Fails with
 * `TotpAlreadyEnabled` while TOTP is on, `Unauthorized` when the token's
 * account no longer exists.
 */
export const EnrolTotp = Rpc.make("EnrolTotp", {
  payload: {},
  success: TotpEnrolment,
  error: Schema.Union(TotpAlreadyEnabled, Unauthorized, ServiceUnavailable)
})

/** Confirms the pending enrolment with a current code; answers the ten backup codes, shown this once. */
export const ConfirmTotp = Rpc.make("ConfirmTotp", {
  payload: MfaCodeRequest,
  success: BackupCodes,
  error: Schema.Union(TotpNotPending, InvalidMfaCode, ServiceUnavailable)
})

const ProofFailure = Schema.Union(MfaNotEnabled, InvalidMfaCode, InvalidCredentials, InvalidRequest, ServiceUnavailable)

/** Turns MFA off, with a current code or the password (exactly one). */
export const DisableMfa = Rpc.make("DisableMfa", { payload: MfaProofRequest, success: MfaDisabled, error: ProofFailure })

/** Ten new backup codes (the old ones stop working), with a current code or the password (exactly one). */
export const RegenerateBackupCodes = Rpc.make("RegenerateBackupCodes", { payload: MfaProofRequest, success: BackupCodes, error: ProofFailure })

export class MfaRpcs extends RpcGroup.make(GetMfaStatus, EnrolTotp, ConfirmTotp, DisableMfa, RegenerateBackupCodes).middleware(
  RpcAuthentication
) {}
