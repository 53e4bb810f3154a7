/** Backup-code format and hashing, and the AES-256-GCM box that seals TOTP secrets at rest. */
import { Either, Option } from "effect"
import { describe, expect, it } from "vitest"
import { fc, test } from "@fast-check/vitest"
import { backupCodeHash, newBackupCode, normalizeBackupCode } from "../../src/auth/mfa/BackupCodeFormat.ts"
import { makeSecretBox } from "../../src/auth/mfa/SecretBox.ts"
import { parseSigningKeys } from "../../src/auth/SigningKeys.ts"

const keys = (text: string) => Either.getOrThrow(parseSigningKeys(text, "PLEXI_AUTH_MFA_KEYS"))
const k1 = "k1=first-mfa-key-of-at-least-32-characters"
const k2 = "k2=second-mfa-key-of-at-least-32-characters"

describe("backup codes", () => {
  it("are 16 base32 characters in four groups, and normalise to themselves without dashes", () => {
    const code = newBackupCode()
    expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/)
    expect(normalizeBackupCode(code)).toEqual(Option.some(code.replace(/-/g, "")))
  })

  it("are read ignoring case, spaces and dashes, with o as 0 and i or l as 1", () => {
    expect(normalizeBackupCode(" 0123-4567 89AB cdef ")).toEqual(Option.some("0123456789abcdef"))
    expect(normalizeBackupCode("o1il-0000-0000-0000")).toEqual(Option.some("0111000000000000"))
  })

  it("refuse what cannot be a code: other lengths and letters outside the alphabet (u)", () => {
    for (const bad of ["", "0123-4567-89ab-cde", "0123-4567-89ab-cdef-0", "u123-4567-89ab-cdef", "123456"]) {
      expect(normalizeBackupCode(bad)).toEqual(Option.none())
    }
  })

  it("hash to SHA-256 hex, the same for every spelling of one code", () => {
    const a = backupCodeHash(Option.getOrThrow(normalizeBackupCode("ABCD-efgh-jkmn-pqrs")))
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(backupCodeHash(Option.getOrThrow(normalizeBackupCode("abcdefghjkmnpqrs")))).toBe(a)
  })

  it("are new each time (ten of them, all different)", () => {
    expect(new Set(Array.from({ length: 10 }, newBackupCode)).size).toBe(10)
  })
})

describe("the TOTP secret box", () => {
  const box = makeSecretBox(keys(k1))

  test.prop([fc.string({ maxLength: 64 }), fc.string({ minLength: 1, maxLength: 40 })])("opens what it sealed, for the same account", (secret, userId) => {
    expect(box.open(box.seal(secret, userId), userId)).toEqual(Option.some(secret))
  })

  it("does not keep the secret in clear and seals it differently each time (random IV)", () => {
    const a = box.seal("JBSWY3DPEHPK3PXP", "u_1")
    expect(a).not.toContain("JBSWY3DPEHPK3PXP")
    expect(box.seal("JBSWY3DPEHPK3PXP", "u_1")).not.toBe(a)
    expect(a.split(".").slice(0, 2)).toEqual(["v1", "k1"])
  })

  it("refuses another account's sealed secret, a changed byte, and an unknown key", () => {
    const sealed = box.seal("JBSWY3DPEHPK3PXP", "u_1")
    expect(box.open(sealed, "u_2")).toEqual(Option.none())
    const parts = sealed.split(".")
    const flipped = Buffer.from(parts[3]!, "base64url")
    flipped[0] = flipped[0]! ^ 1
    expect(box.open([...parts.slice(0, 3), flipped.toString("base64url"), parts[4]].join("."), "u_1")).toEqual(Option.none())
    expect(makeSecretBox(keys(k2)).open(sealed, "u_1")).toEqual(Option.none())
    expect(box.open("not sealed", "u_1")).toEqual(Option.none())
  })

  it("rotates: a new first key seals, the old one still opens, and old texts are stale", () => {
    const old = box.seal("JBSWY3DPEHPK3PXP", "u_1")
    const rotated = makeSecretBox(keys(`${k2},${k1}`))
    expect(rotated.open(old, "u_1")).toEqual(Option.some("JBSWY3DPEHPK3PXP"))
    expect(rotated.isStale(old)).toBe(true)
    expect(rotated.isStale(rotated.seal("x", "u_1"))).toBe(false)
  })
})
