/** MfaConfig: defaults, what it reads, what it refuses, and the key requirement of a node on Postgres. */
import { Duration, Effect, Exit, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import * as MfaConfig from "../../src/auth/mfa/MfaConfig.ts"
import { itRefuses, readConfig } from "../fixtures/ConfigEnv.ts"

describe("MfaConfig", () => {
  it("has documented defaults: no keys, 5-minute challenges, 5 attempts, issuer PlexiChat", () => {
    const result = readConfig(MfaConfig.config, {})
    expect(result._tag).toBe("Right")
    if (result._tag !== "Right") return
    expect(Option.isNone(result.right.keys)).toBe(true)
    expect(Duration.toMillis(result.right.challengeTtl)).toBe(300_000)
    expect([result.right.maxAttempts, result.right.issuer]).toEqual([5, "PlexiChat"])
  })

  it("reads every variable, keeping the keys redacted", () => {
    const result = readConfig(MfaConfig.config, {
      PLEXI_AUTH_MFA_KEYS: "m2=0123456789abcdef0123456789abcdef,m1=fedcba9876543210fedcba9876543210",
      PLEXI_AUTH_MFA_CHALLENGE_TTL: "2 minutes",
      PLEXI_AUTH_MFA_MAX_ATTEMPTS: "3",
      PLEXI_AUTH_TOTP_ISSUER: "Acme Chat"
    })
    expect(result._tag).toBe("Right")
    if (result._tag !== "Right") return
    const keys = Option.getOrThrow(result.right.keys)
    expect(String(keys)).not.toContain("0123456789abcdef")
    expect(Redacted.value(keys).all.map((k) => k.kid)).toEqual(["m2", "m1"])
    expect(Duration.toMillis(result.right.challengeTtl)).toBe(120_000)
    expect([result.right.maxAttempts, result.right.issuer]).toEqual([3, "Acme Chat"])
  })

  itRefuses(MfaConfig.config, [
    ["PLEXI_AUTH_MFA_KEYS", ""],
    ["PLEXI_AUTH_MFA_KEYS", "m=short"],
    ["PLEXI_AUTH_MFA_CHALLENGE_TTL", "0 seconds"],
    ["PLEXI_AUTH_MFA_CHALLENGE_TTL", "2 hours"],
    ["PLEXI_AUTH_MFA_MAX_ATTEMPTS", "0"],
    ["PLEXI_AUTH_MFA_MAX_ATTEMPTS", "21"],
    ["PLEXI_AUTH_TOTP_ISSUER", "a:b"],
    ["PLEXI_AUTH_TOTP_ISSUER", "x".repeat(65)]
  ])

  it("requires keys on a node others can reach (Postgres) and not on a single node", () => {
    const shared = Effect.runSyncExit(MfaConfig.requireMfaKeys(MfaConfig.defaults, true))
    expect(Exit.isFailure(shared)).toBe(true)
    expect(String(Exit.isFailure(shared) ? shared.cause : "")).toMatch(/PLEXI_AUTH_MFA_KEYS is not set/)
    expect(Effect.runSyncExit(MfaConfig.requireMfaKeys(MfaConfig.defaults, false))).toEqual(Exit.void)
  })
})
