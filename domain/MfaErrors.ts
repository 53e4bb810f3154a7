/**
 * Typed failures of multi-factor sign-in, each with the HTTP status the REST
 * API answers with. A failed second step writes nothing but the
 * challenge's attempt count.
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"
import { MfaFactor } from "./Mfa.ts"

/**
 * The password was right, and the account has a second factor: no session
 * exists yet. Complete the sign-in with `POST /api/v1/auth/mfa {challenge,
 * code}` before `expiresAt` (ms since the epoch), with one of `factors`.
 */
export class MfaRequired extends Schema.TaggedError<MfaRequired>()(
  "MfaRequired",
  {
    challenge: Schema.String,
    expiresAt: Schema.Number,
    factors: Schema.Array(MfaFactor),
    message: Schema.String
  },
  HttpApiSchema.annotations({ status: 401 })
) {}

/**
 * The sign-in challenge cannot be completed: not one this server issued
 * (`unknown`), past its lifetime (`expired`), already completed (`used`), or
 * ended by too many wrong codes (`too_many_attempts`). Sign in again.
 */
export class InvalidMfaChallenge extends Schema.TaggedError<InvalidMfaChallenge>()(
  "InvalidMfaChallenge",
  { reason: Schema.Literal("unknown", "expired", "used", "too_many_attempts"), message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/**
 * The code was refused: not a valid code now (`wrong`), a TOTP code of a
 * time step already used for this account (`replayed`), or a backup code
 * already used (`used`). During sign-in `attemptsLeft` says how many more
 * codes the challenge takes (0: it has ended).
 */
export class InvalidMfaCode extends Schema.TaggedError<InvalidMfaCode>()(
  "InvalidMfaCode",
  {
    reason: Schema.Literal("wrong", "replayed", "used"),
    attemptsLeft: Schema.optional(Schema.Int),
    message: Schema.String
  },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** TOTP is already on for this account: turn it off first to enrol a new authenticator. */
export class TotpAlreadyEnabled extends Schema.TaggedError<TotpAlreadyEnabled>()(
  "TotpAlreadyEnabled",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** There is no pending TOTP enrolment to confirm (none started, or it is already confirmed). */
export class TotpNotPending extends Schema.TaggedError<TotpNotPending>()(
  "TotpNotPending",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** The operation needs MFA to be on (TOTP confirmed), and it is not. */
export class MfaNotEnabled extends Schema.TaggedError<MfaNotEnabled>()(
  "MfaNotEnabled",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}
