/**
 * TOTP (RFC 6238) through `otpauth`: secrets, `otpauth://` URIs, and the
 * check of a code against the time steps around now. Pure: the time and the
 * account's last accepted step are arguments, so the window and the replay
 * rule are tested with fixed times.
 *
 * - HMAC-SHA-1, 6 digits, 30-second steps: what every authenticator app
 *   supports (SHA-256 and 8 digits are not read by all of them).
 * - A code is accepted for the step before, the current one and the one
 *   after (±1 step: up to 30 s of clock drift or typing time either way).
 * - Replay: the store keeps the last accepted step of the account. A code
 *   whose matching step is not after it is refused (`Replayed`): the same
 *   code again, or an older one, even inside the window.
 */
import { timingSafeEqual } from "node:crypto"
import { HOTP, Secret, TOTP } from "otpauth"

export const TOTP_ALGORITHM = "SHA1"
export const TOTP_DIGITS = 6
export const TOTP_PERIOD_SECONDS = 30
/** Steps accepted on either side of the current one. */
export const TOTP_WINDOW = 1

/** A new shared secret: 20 random bytes (160 bits, RFC 4226's recommendation), base32. */
export const newTotpSecret = (): string => new Secret({ size: 20 }).base32

/** The `otpauth://totp/...` URI an authenticator app reads (also the QR code's payload). */
export const totpUri = (issuer: string, username: string, secretBase32: string): string =>
  new TOTP({
    issuer,
    label: username,
    secret: Secret.fromBase32(secretBase32),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS
  }).toString()

/** The time step of `nowMs`: whole periods since the epoch. */
export const stepAt = (nowMs: number): number => Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS)

/** The code of one step (tests and the check below). */
export const codeAt = (secretBase32: string, step: number): string =>
  HOTP.generate({ secret: Secret.fromBase32(secretBase32), algorithm: TOTP_ALGORITHM, digits: TOTP_DIGITS, counter: step })

/** What a code is worth now. */
export type TotpCheck =
  /** Valid for `step`, which is after the last accepted one: accept it, and record `step`. */
  | { readonly _tag: "Accepted"; readonly step: number }
  /** Valid, but only for steps already used (or before them): a replay. */
  | { readonly _tag: "Replayed" }
  | { readonly _tag: "Wrong" }

/** Whether `code` has the shape of a TOTP code (6 digits); anything else cannot be one. */
export const isTotpShaped = (code: string): boolean => /^[0-9]{6}$/.test(code)

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

/**
 * Checks `code` against the steps within the window around `nowMs`. Every
 * step of the window is computed and compared in constant time, so the
 * answer's timing does not tell which step matched.
 */
export const checkTotp = (secretBase32: string, code: string, nowMs: number, lastUsedStep: number | null): TotpCheck => {
  if (!isTotpShaped(code)) return { _tag: "Wrong" }
  const now = stepAt(nowMs)
  const matching: Array<number> = []
  for (let step = now - TOTP_WINDOW; step <= now + TOTP_WINDOW; step++) {
    if (same(codeAt(secretBase32, step), code)) matching.push(step)
  }
  if (matching.length === 0) return { _tag: "Wrong" }
  const fresh = matching.filter((step) => lastUsedStep === null || step > lastUsedStep)
  // The earliest fresh step: later codes of the window stay usable once each.
  return fresh.length === 0 ? { _tag: "Replayed" } : { _tag: "Accepted", step: fresh[0]! }
}
