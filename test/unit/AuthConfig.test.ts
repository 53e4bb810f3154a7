/** AuthConfig: defaults, what it reads, what it refuses, and the signing-key requirement of a node on Postgres. */
import { availableParallelism } from "node:os"
import { describe, expect, it } from "vitest"
import { Duration, Effect, Exit, Option, Redacted } from "effect"
import * as AuthConfig from "../../src/auth/AuthConfig.ts"
import { itRefuses, readConfig } from "../fixtures/ConfigEnv.ts"

describe("AuthConfig", () => {
  it("has documented defaults: no keys, 15-minute access, 30-day refresh, open registration, OWASP Argon2id", () => {
    const result = readConfig(AuthConfig.config, {})
    expect(result._tag).toBe("Right")
    if (result._tag !== "Right") return
    expect(Option.isNone(result.right.signingKeys)).toBe(true)
    expect(Duration.toMillis(result.right.accessTtl)).toBe(15 * 60_000)
    expect(Duration.toMillis(result.right.refreshTtl)).toBe(30 * 86_400_000)
    expect(result.right.registration).toBe("open")
    expect(result.right.argon2).toEqual({ memoryKib: 19_456, timeCost: 2, parallelism: 1 })
    expect([result.right.passwordMinLength, result.right.passwordMaxLength]).toEqual([10, 256])
    expect(result.right.hashConcurrency).toBe(Math.max(1, Math.min(4, availableParallelism() - 1)))
  })

  it("reads every PLEXI_AUTH_* variable, keeping the keys redacted", () => {
    const result = readConfig(AuthConfig.config, {
      PLEXI_AUTH_SIGNING_KEYS: "k2=0123456789abcdef0123456789abcdef,k1=fedcba9876543210fedcba9876543210",
      PLEXI_AUTH_ACCESS_TTL: "5 minutes",
      PLEXI_AUTH_REFRESH_TTL: "7 days",
      PLEXI_AUTH_REGISTRATION: "first",
      PLEXI_AUTH_PASSWORD_MIN_LENGTH: "12",
      PLEXI_AUTH_PASSWORD_MAX_LENGTH: "128",
      PLEXI_AUTH_ARGON2_MEMORY_KIB: "65536",
      PLEXI_AUTH_ARGON2_TIME_COST: "3",
      PLEXI_AUTH_ARGON2_PARALLELISM: "2",
      PLEXI_AUTH_HASH_CONCURRENCY: "3"
    })
    expect(result._tag).toBe("Right")
    if (result._tag !== "Right") return
    const c = result.right
    const keys = Option.getOrThrow(c.signingKeys)
    expect(String(keys)).not.toContain("0123456789abcdef")
    expect(Redacted.value(keys).all.map((k) => k.kid)).toEqual(["k2", "k1"])
    expect(Duration.toMillis(c.accessTtl)).toBe(300_000)
    expect(c.registration).toBe("first")
    expect([c.passwordMinLength, c.passwordMaxLength, c.hashConcurrency]).toEqual([12, 128, 3])
    expect(c.argon2).toEqual({ memoryKib: 65_536, timeCost: 3, parallelism: 2 })
  })

  itRefuses(AuthConfig.config, [
    ["PLEXI_AUTH_SIGNING_KEYS", ""],
    ["PLEXI_AUTH_SIGNING_KEYS", "k=short"],
    ["PLEXI_AUTH_ACCESS_TTL", "0 seconds"],
    ["PLEXI_AUTH_REFRESH_TTL", "soon"],
    ["PLEXI_AUTH_REGISTRATION", "maybe"],
    ["PLEXI_AUTH_PASSWORD_MIN_LENGTH", "4"],
    ["PLEXI_AUTH_PASSWORD_MAX_LENGTH", "5000"],
    ["PLEXI_AUTH_PASSWORD_MAX_LENGTH", "9"],
    ["PLEXI_AUTH_ARGON2_MEMORY_KIB", "8"],
    ["PLEXI_AUTH_ARGON2_TIME_COST", "0"],
    ["PLEXI_AUTH_ARGON2_PARALLELISM", "64"],
    ["PLEXI_AUTH_HASH_CONCURRENCY", "0"]
  ])

  it("requires signing keys on a node others can reach (Postgres) and not on a single node", () => {
    const shared = Effect.runSyncExit(AuthConfig.requireSigningKeys(AuthConfig.defaults, true))
    expect(Exit.isFailure(shared)).toBe(true)
    expect(String(Exit.isFailure(shared) ? shared.cause : "")).toMatch(/PLEXI_AUTH_SIGNING_KEYS is not set/)
    expect(Effect.runSyncExit(AuthConfig.requireSigningKeys(AuthConfig.defaults, false))).toEqual(Exit.void)
  })
})
