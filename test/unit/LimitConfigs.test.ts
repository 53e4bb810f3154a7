/** The settings of the per-user budgets and of the login throttle: defaults, every variable read, bad values refused by name. */
import { type Config, ConfigProvider, Duration, Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import * as UserBudgetConfig from "../../src/api/UserBudgetConfig.ts"
import * as LoginThrottleConfig from "../../src/auth/LoginThrottleConfig.ts"

const reader = <A>(config: Config.Config<A>) => (env: Record<string, string>) =>
  Effect.runSync(Effect.either(Effect.withConfigProvider(config, ConfigProvider.fromMap(new Map(Object.entries(env))))))

describe("UserBudgetConfig", () => {
  const read = reader(UserBudgetConfig.config)
  it("takes the documented defaults, and reads every variable", () => {
    expect(read({})).toEqual(Either.right({ post: { rate: 20, burst: 60 }, join: { rate: 2, burst: 10 }, api: { rate: 50, burst: 200 } }))
    expect(read({
      PLEXI_POST_RATE_LIMIT: "5",
      PLEXI_POST_RATE_BURST: "7",
      PLEXI_JOIN_RATE_LIMIT: "0.5",
      PLEXI_JOIN_RATE_BURST: "3",
      PLEXI_API_RATE_LIMIT: "2.5",
      PLEXI_API_RATE_BURST: "6"
    })).toEqual(Either.right({ post: { rate: 5, burst: 7 }, join: { rate: 0.5, burst: 3 }, api: { rate: 2.5, burst: 6 } }))
  })

  it.each([["PLEXI_POST_RATE_LIMIT", "0"], ["PLEXI_POST_RATE_BURST", "-1"], ["PLEXI_JOIN_RATE_LIMIT", "x"], ["PLEXI_JOIN_RATE_BURST", "0"], [
    "PLEXI_API_RATE_LIMIT",
    "abc"
  ], ["PLEXI_API_RATE_BURST", "-1"]])(
    "refuses %s=%s naming the variable",
    (name, value) => {
      const result = read({ [name]: value })
      expect(Either.isLeft(result) && String(result.left)).toContain(name)
    }
  )
})

describe("LoginThrottleConfig", () => {
  const read = reader(LoginThrottleConfig.config)
  it("takes the documented defaults, and reads durations", () => {
    expect(read({})).toEqual(Either.right(LoginThrottleConfig.defaults))
    const set = read({ PLEXI_LOGIN_LOCK_DURATION: "2 minutes", PLEXI_REGISTER_IP_REFILL: "1 hours", PLEXI_LOGIN_DELAY_AFTER: "4" })
    expect(Either.isRight(set) && Duration.toMillis(set.right.lockDuration)).toBe(120_000)
    expect(Either.isRight(set) && LoginThrottleConfig.bucketOf(set.right.registerBurst, set.right.registerRefill).rate).toBe(1 / 3600)
    expect(Either.isRight(set) && set.right.delayAfter).toBe(4)
  })

  it("reads the budgets of WebAuthn sign-in options and OIDC starts, 60 / 1 s and 30 / 2 s by default", () => {
    const buckets = LoginThrottleConfig.bucketsOf(LoginThrottleConfig.defaults)
    expect([buckets.webauthn_options, buckets.oidc_start]).toEqual([{ burst: 60, rate: 1 }, { burst: 30, rate: 0.5 }])
    const set = read({
      PLEXI_WEBAUTHN_OPTIONS_IP_BURST: "5",
      PLEXI_WEBAUTHN_OPTIONS_IP_REFILL: "10 seconds",
      PLEXI_OIDC_START_IP_BURST: "7",
      PLEXI_OIDC_START_IP_REFILL: "1 minutes"
    })
    expect(Either.isRight(set) && LoginThrottleConfig.bucketsOf(set.right)).toMatchObject({
      webauthn_options: { burst: 5, rate: 0.1 },
      oidc_start: { burst: 7, rate: 1 / 60 }
    })
  })

  it.each([
    ["PLEXI_LOGIN_DELAY_AFTER", "0"],
    ["PLEXI_LOGIN_LOCK_AFTER", "1.5"],
    ["PLEXI_LOGIN_ACCOUNT_LOCK_DURATION", "0 seconds"],
    ["PLEXI_LOGIN_ADDRESS_LOCK_AFTER", "-3"],
    ["PLEXI_LOGIN_IP_BURST", "0"],
    ["PLEXI_REGISTER_IP_REFILL", "soon"],
    ["PLEXI_REFRESH_IP_BURST", "0"],
    ["PLEXI_WEBAUTHN_OPTIONS_IP_BURST", "0"],
    ["PLEXI_WEBAUTHN_OPTIONS_IP_REFILL", "0 seconds"],
    ["PLEXI_OIDC_START_IP_BURST", "1.5"],
    ["PLEXI_OIDC_START_IP_REFILL", "never"]
  ])("refuses %s=%s naming the variable", (name, value) => {
    const result = read({ [name]: value })
    expect(Either.isLeft(result) && String(result.left)).toContain(name)
  })
})
