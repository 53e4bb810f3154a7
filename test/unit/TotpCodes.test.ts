/**
 * The TOTP check at fixed times: the ±1 step window, the replay rule
 * against the last accepted step, RFC 6238's own test vector, and codes of
 * the wrong shape. No clock: every time is an argument.
 */
import { Secret, TOTP, URI } from "otpauth"
import { describe, expect, it } from "vitest"
import { checkTotp, codeAt, newTotpSecret, stepAt, totpUri } from "../../src/auth/mfa/TotpCodes.ts"

const secret = newTotpSecret()
// 2026-12-02T12:00:00Z, the start of a step (a multiple of 30 s).
const t0 = Date.UTC(2026, 11, 2, 12, 0, 0)
const step0 = stepAt(t0)

describe("TOTP codes", () => {
  it("computes RFC 6238's SHA-1 test vector (time 59 s, 8 digits 94287082, so 6 digits 287082)", () => {
    const rfcSecret = Secret.fromLatin1("12345678901234567890").base32
    expect(codeAt(rfcSecret, stepAt(59_000))).toBe("287082")
    expect(checkTotp(rfcSecret, "287082", 59_000, null)).toEqual({ _tag: "Accepted", step: 1 })
  })

  it("agrees with otpauth's own TOTP at the same time", () => {
    const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 })
    expect(codeAt(secret, step0)).toBe(totp.generate({ timestamp: t0 }))
    expect(checkTotp(secret, totp.generate({ timestamp: t0 + 29_999 }), t0, null)).toEqual({ _tag: "Accepted", step: step0 })
  })

  it("accepts the codes of the step before, the current step and the step after, and no further", () => {
    for (const delta of [-1, 0, 1]) {
      expect(checkTotp(secret, codeAt(secret, step0 + delta), t0, null)).toEqual({ _tag: "Accepted", step: step0 + delta })
    }
    for (const delta of [-3, -2, 2, 3]) {
      const code = codeAt(secret, step0 + delta)
      // A code of a far step could equal one inside the window by chance (1 in 10^6 per step); skip that case.
      if ([-1, 0, 1].some((d) => codeAt(secret, step0 + d) === code)) continue
      expect(checkTotp(secret, code, t0, null)).toEqual({ _tag: "Wrong" })
    }
  })

  it("uses the step of the time, not of the request's arrival: the last millisecond of a step still has it", () => {
    expect(stepAt(t0 + 29_999)).toBe(step0)
    expect(stepAt(t0 + 30_000)).toBe(step0 + 1)
    // 59 s after t0 the current step is step0+1, so step0's code is the previous one: still inside the window.
    expect(checkTotp(secret, codeAt(secret, step0), t0 + 59_000, null)).toEqual({ _tag: "Accepted", step: step0 })
    // 60 s after t0 it is two steps old.
    const code = codeAt(secret, step0)
    if (codeAt(secret, step0 + 1) !== code && codeAt(secret, step0 + 2) !== code && codeAt(secret, step0 + 3) !== code) {
      expect(checkTotp(secret, code, t0 + 60_000, null)).toEqual({ _tag: "Wrong" })
    }
  })

  it("refuses a code whose step is the last accepted one, or before it, as a replay, also later inside the window", () => {
    const code = codeAt(secret, step0)
    expect(checkTotp(secret, code, t0, step0)).toEqual({ _tag: "Replayed" })
    expect(checkTotp(secret, code, t0 + 25_000, step0)).toEqual({ _tag: "Replayed" })
    // After the step after was used, the current step's code is older than the last accepted step.
    expect(checkTotp(secret, code, t0, step0 + 1)).toEqual({ _tag: "Replayed" })
    expect(checkTotp(secret, codeAt(secret, step0 - 1), t0, step0)).toEqual({ _tag: "Replayed" })
  })

  it("accepts a later step's code once the current one was used", () => {
    expect(checkTotp(secret, codeAt(secret, step0 + 1), t0, step0)).toEqual({ _tag: "Accepted", step: step0 + 1 })
    expect(checkTotp(secret, codeAt(secret, step0 + 1), t0 + 30_000, step0)).toEqual({ _tag: "Accepted", step: step0 + 1 })
  })

  it("takes only six digits: letters, other lengths and padding are wrong codes", () => {
    const code = codeAt(secret, step0)
    for (const bad of ["", "12345", "1234567", `${code} `, ` ${code}`, "abcdef", "12345\u0661", `${code.slice(0, 5)}x`]) {
      expect(checkTotp(secret, bad, t0, null)).toEqual({ _tag: "Wrong" })
    }
  })

  it("writes an otpauth:// URI that otpauth reads back with the same secret and parameters", () => {
    const uri = totpUri("PlexiChat", "alice", secret)
    expect(uri.startsWith("otpauth://totp/PlexiChat:alice?")).toBe(true)
    const parsed = URI.parse(uri)
    expect(parsed).toBeInstanceOf(TOTP)
    if (!(parsed instanceof TOTP)) return
    expect(parsed.secret.base32).toBe(secret)
    expect([parsed.issuer, parsed.label, parsed.algorithm, parsed.digits, parsed.period]).toEqual(["PlexiChat", "alice", "SHA1", 6, 30])
  })

  it("makes 160-bit secrets, each new", () => {
    expect(Secret.fromBase32(secret).bytes.length).toBe(20)
    expect(newTotpSecret()).not.toBe(secret)
  })
})
