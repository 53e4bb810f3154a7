/**
 * Multi-factor sign-in, built on the account kit: the sign-in `gate` and
 * its second step (`MfaChallenge.ts`), and the caller's own factors
 * (`MfaSettings.ts`). TOTP secrets are sealed with AES-256-GCM
 * (`SecretBox.ts`); backup codes are kept as SHA-256 (`BackupCodeFormat.ts`).
 */
import { Effect } from "effect"
import type { AccountKit } from "../AccountKit.ts"
import * as MfaChallenge from "./MfaChallenge.ts"
import { makeMfaKit } from "./MfaKit.ts"
import * as MfaSettings from "./MfaSettings.ts"

export const makeMfa = (kit: AccountKit) =>
  Effect.map(makeMfaKit(kit), (mfa) => ({
    gate: MfaChallenge.gate(mfa),
    complete: MfaChallenge.complete(mfa),
    status: MfaSettings.status(mfa),
    enrolTotp: MfaSettings.enrol(mfa),
    confirmTotp: MfaSettings.confirm(mfa),
    disable: MfaSettings.disable(mfa),
    regenerateBackupCodes: MfaSettings.regenerateBackupCodes(mfa),
    /** The proof of a sensitive change (a current code or the password), for other units (WebAuthn key registration). */
    prove: MfaSettings.prove(mfa)
  }) as const)

export type Mfa = Effect.Effect.Success<ReturnType<typeof makeMfa>>

/** What a password sign-in asks before it opens a session: nothing, or `MfaRequired`. */
export type SecondFactorGate = Mfa["gate"]
