import { ConfigProvider, Duration, Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { config, defaults } from "../../runtime/edge/WsConfig.ts"

const load = (env: Record<string, string>) =>
  Effect.runSync(Effect.either(Effect.withConfigProvider(config, ConfigProvider.fromMap(new Map(Object.entries(env))))))

describe("WsConfig", () => {
  it("reads the defaults when nothing is set, and the PLEXI_WS_* values when set", () => {
    expect(load({})).toEqual(Either.right(defaults))
    const set = load({ PLEXI_WS_AUTH_TIMEOUT: "2 seconds", PLEXI_WS_MAX_CONNECTIONS_PER_IP: "7", PLEXI_WS_RATE_LIMIT: "0.5" })
    expect(Either.isRight(set) && Duration.toMillis(set.right.authTimeout)).toBe(2000)
    expect(Either.isRight(set) && set.right.maxConnectionsPerIp).toBe(7)
    expect(Either.isRight(set) && set.right.rateLimit).toBe(0.5)
    const bounded = load({ PLEXI_WS_DRAIN_TIMEOUT: "5 seconds", PLEXI_WS_MAX_SUBSCRIPTIONS: "3" })
    expect(Either.isRight(bounded) && Duration.toMillis(bounded.right.drainTimeout)).toBe(5000)
    expect(Either.isRight(bounded) && bounded.right.maxSubscriptions).toBe(3)
  })

  it.each([
    ["PLEXI_WS_RATE_LIMIT", "0"],
    ["PLEXI_WS_RATE_BURST", "-1"],
    ["PLEXI_WS_MAX_FRAME_BYTES", "-5"],
    ["PLEXI_WS_MAX_CONNECTIONS_PER_IP", "0"],
    ["PLEXI_WS_MAX_UNAUTHENTICATED_PER_IP", "0"],
    ["PLEXI_WS_MAX_NESTING_DEPTH", "0"],
    ["PLEXI_WS_AUTH_TIMEOUT", "0 millis"],
    ["PLEXI_WS_FLOOD_WINDOW", "0 seconds"],
    ["PLEXI_WS_DRAIN_TIMEOUT", "0 seconds"],
    ["PLEXI_WS_MAX_SUBSCRIPTIONS", "0"]
  ])("refuses %s=%s at start-up, naming the variable", (name, value) => {
    const result = load({ [name]: value })
    expect(Either.isLeft(result)).toBe(true)
    expect(String(Either.isLeft(result) && result.left)).toContain(name)
  })
})
