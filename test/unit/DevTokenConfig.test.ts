import { Duration, Effect, Either, Exit, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import * as DevTokenConfig from "../../src/auth/DevTokenConfig.ts"
import { itRefuses, readConfig } from "../fixtures/ConfigEnv.ts"

const secretOf = (c: DevTokenConfig.DevTokenConfigShape) => Redacted.value(c.secret)

describe("DevTokenConfig", () => {
  it("defaults to issuing, the public development secret and 12-hour tokens", () => {
    const result = readConfig(DevTokenConfig.config, {})
    expect(Either.isRight(result)).toBe(true)
    if (Either.isLeft(result)) return
    expect(result.right.issuing).toBe(true)
    expect(secretOf(result.right)).toBe(DevTokenConfig.defaultSecret)
    expect(Duration.toMillis(result.right.ttl)).toBe(12 * 3600_000)
  })

  it("reads PLEXI_DEV_AUTH, PLEXI_DEV_TOKEN_SECRET (redacted) and PLEXI_DEV_TOKEN_TTL", () => {
    const result = readConfig(DevTokenConfig.config, {
      PLEXI_DEV_AUTH: "false",
      PLEXI_DEV_TOKEN_SECRET: "s3cret",
      PLEXI_DEV_TOKEN_TTL: "90 seconds"
    })
    expect(Either.isRight(result)).toBe(true)
    if (Either.isLeft(result)) return
    expect(result.right.issuing).toBe(false)
    expect(secretOf(result.right)).toBe("s3cret")
    expect(String(result.right.secret)).not.toContain("s3cret")
    expect(DevTokenConfig.tokenOptions(result.right)).toEqual({ secret: result.right.secret, ttlMs: 90_000, issuing: false })
  })

  itRefuses(DevTokenConfig.config, [
    ["PLEXI_DEV_AUTH", "maybe"],
    ["PLEXI_DEV_TOKEN_SECRET", ""],
    ["PLEXI_DEV_TOKEN_TTL", "0 seconds"],
    ["PLEXI_DEV_TOKEN_TTL", "soon"]
  ])

  it("refuses the public default secret on a shared (Postgres) node, naming the variable, and allows it on a single node", () => {
    const publicDefault = DevTokenConfig.defaults
    const own = { ...publicDefault, secret: Redacted.make("a-long-random-string") }
    const shared = Effect.runSyncExit(DevTokenConfig.requireOwnSecret(publicDefault, true))
    expect(Exit.isFailure(shared)).toBe(true)
    expect(String(Exit.isFailure(shared) ? shared.cause : "")).toMatch(/PLEXI_DEV_TOKEN_SECRET is the public default/)
    expect(Effect.runSyncExit(DevTokenConfig.requireOwnSecret(publicDefault, false))).toEqual(Exit.void)
    expect(Effect.runSyncExit(DevTokenConfig.requireOwnSecret(own, true))).toEqual(Exit.void)
  })
})
