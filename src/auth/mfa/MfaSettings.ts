/**
 * The caller's own second factors: TOTP enrolment (pending until a code
 * proves the authenticator has the secret), new backup codes, turning MFA
 * off, and the current state. Enrolment needs only the access token; the
 * changes that could weaken the account (off, new backup codes) also need
 * a proof: a current code or the password.
 */
import { Clock, Effect, Option } from "effect"
import type { BackupCodes, MfaProofRequest, MfaStatus, TotpEnrolment } from "../../../domain/Mfa.ts"
import { InvalidMfaCode, MfaNotEnabled, TotpAlreadyEnabled, TotpNotPending } from "../../../domain/MfaErrors.ts"
import { InvalidRequest, type ServiceUnavailable, Unauthorized } from "../../../domain/Errors.ts"
import { type Caller, invalidCredentials } from "../AccountKit.ts"
import { BACKUP_CODE_COUNT, backupCodeHash, newBackupCode, normalizeBackupCode } from "./BackupCodeFormat.ts"
import { type MfaKit, refusalMessages } from "./MfaKit.ts"
import { checkTotp, newTotpSecret, TOTP_DIGITS, TOTP_PERIOD_SECONDS, totpUri } from "./TotpCodes.ts"

const notEnabled = () => new MfaNotEnabled({ message: "MFA is not on for this account: enrol and confirm TOTP first" })

/** A new set of backup codes (as shown once) and the hashes the store keeps. */
const newBackupCodes = () => {
  const codes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode)
  return { codes, hashes: codes.map((code) => backupCodeHash(Option.getOrThrow(normalizeBackupCode(code)))) }
}

export const status = (mfa: MfaKit) => (caller: Caller): Effect.Effect<MfaStatus, ServiceUnavailable> =>
  mfa.kit.stored(mfa.store.factors(caller.userId))

export const enrol = (mfa: MfaKit) => (caller: Caller) =>
  Effect.gen(function*() {
    const account = yield* mfa.kit.stored(mfa.kit.store.findByUserId(caller.userId))
    if (Option.isNone(account)) return yield* new Unauthorized({ message: "this account no longer exists" })
    const now = yield* Clock.currentTimeMillis
    const secret = newTotpSecret()
    const started = yield* mfa.kit.stored(mfa.store.putPendingTotp(caller.userId, mfa.box.seal(secret, caller.userId), now))
    if (!started) return yield* new TotpAlreadyEnabled({ message: "TOTP is already on for this account; turn it off to enrol another authenticator" })
    const uri = totpUri(mfa.config.issuer, account.value.username, secret)
    return {
      uri,
      qrPayload: uri,
      secret,
      algorithm: "SHA1",
      digits: TOTP_DIGITS,
      period: TOTP_PERIOD_SECONDS
    } satisfies TotpEnrolment
  })

export const confirm = (mfa: MfaKit) => (caller: Caller, code: string) =>
  Effect.gen(function*() {
    const notPending = new TotpNotPending({ message: "there is no TOTP enrolment to confirm: POST /api/v1/auth/totp first" })
    const found = yield* mfa.kit.stored(mfa.store.findTotp(caller.userId))
    if (Option.isNone(found) || found.value.confirmed) return yield* notPending
    const pending = found.value
    const secret = yield* mfa.openSecret(caller.userId, pending.sealed)
    const now = yield* Clock.currentTimeMillis
    const check = checkTotp(secret, code.replace(/\s/g, ""), now, null)
    if (check._tag !== "Accepted") return yield* new InvalidMfaCode({ reason: "wrong", message: refusalMessages.wrong })
    const { codes, hashes } = newBackupCodes()
    if (!(yield* mfa.kit.stored(mfa.store.confirmTotp(caller.userId, pending.sealed, check.step, hashes, now)))) {
      return yield* notPending
    }
    yield* Effect.logInfo("TOTP enabled", { userId: caller.userId })
    yield* mfa.kit.audit.record({ actor: caller.userId, action: "mfa.totp_enabled", target: caller.userId })
    return { backupCodes: codes } satisfies BackupCodes
  })

/** The proof of a sensitive change (here, and registering a security key): a code (consumed) or the password; exactly one. */
export const prove = (mfa: MfaKit) => (caller: Pick<Caller, "userId">, proof: MfaProofRequest) =>
  Effect.gen(function*() {
    if ((proof.code === undefined) === (proof.password === undefined)) {
      return yield* new InvalidRequest({ message: "send exactly one of code (a current TOTP or backup code) and password" })
    }
    const now = yield* Clock.currentTimeMillis
    if (proof.code !== undefined) {
      const use = yield* mfa.stored(mfa.useCode(caller.userId, proof.code, now))
      if (use._tag === "Refused") return yield* new InvalidMfaCode({ reason: use.reason, message: refusalMessages[use.reason] })
      return
    }
    const account = yield* mfa.kit.stored(mfa.kit.store.findByUserId(caller.userId))
    if (Option.isNone(account)) {
      yield* mfa.kit.hasher.verifyNobody(proof.password!)
      return yield* invalidCredentials()
    }
    if (!(yield* mfa.kit.hasher.verify(account.value.passwordHash, proof.password!))) return yield* invalidCredentials()
  })

export const disable = (mfa: MfaKit) => (caller: Caller, proof: MfaProofRequest) =>
  Effect.gen(function*() {
    const factors = yield* mfa.kit.stored(mfa.store.factors(caller.userId))
    if (factors.totp === "off") return yield* notEnabled()
    yield* prove(mfa)(caller, proof)
    yield* mfa.kit.stored(mfa.store.disableMfa(caller.userId))
    yield* Effect.logInfo("MFA turned off", { userId: caller.userId })
    yield* mfa.kit.audit.record({ actor: caller.userId, action: "mfa.disabled", target: caller.userId, details: { proof: proof.code === undefined ? "password" : "code" } })
    return { totp: "off" as const }
  })

export const regenerateBackupCodes = (mfa: MfaKit) => (caller: Caller, proof: MfaProofRequest) =>
  Effect.gen(function*() {
    const factors = yield* mfa.kit.stored(mfa.store.factors(caller.userId))
    if (factors.totp !== "on") return yield* notEnabled()
    yield* prove(mfa)(caller, proof)
    const now = yield* Clock.currentTimeMillis
    const { codes, hashes } = newBackupCodes()
    if (!(yield* mfa.kit.stored(mfa.store.replaceBackupCodes(caller.userId, hashes, now)))) return yield* notEnabled()
    yield* Effect.logInfo("backup codes replaced", { userId: caller.userId })
    yield* mfa.kit.audit.record({ actor: caller.userId, action: "mfa.backup_codes_replaced", target: caller.userId })
    return { backupCodes: codes } satisfies BackupCodes
  })
