import { Duration, Either } from "effect"
import { describe, expect, it } from "vitest"
import { config, defaults, type HardeningSettings } from "../../runtime/edge/HardeningConfig.ts"
import { corsAllows, corsAnswerHeaders, upgradeAllows } from "../../runtime/edge/OriginPolicy.ts"
import { securityHeaders } from "../../runtime/edge/SecurityHeaders.ts"
import { itRefuses, readConfig } from "../fixtures/ConfigEnv.ts"

const read = (env: Record<string, string>) => readConfig(config, env)

const settings = (options: Partial<HardeningSettings>): HardeningSettings => ({ ...defaults, ...options })

describe("HardeningConfig", () => {
  it("takes the documented defaults when nothing is set: CORS closed, same-origin WebSockets, no HSTS", () => {
    expect(read({})).toEqual(Either.right(defaults))
    expect(defaults).toEqual({
      corsAllowedOrigins: [],
      corsMaxAge: Duration.minutes(10),
      wsAllowedOrigins: [],
      behindTls: false,
      hstsMaxAge: Duration.days(365)
    })
  })

  it("reads every variable; a list is comma-separated, spaces and empty items ignored", () => {
    expect(read({
      PLEXI_CORS_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:5173,",
      PLEXI_CORS_MAX_AGE: "1 hour",
      PLEXI_WS_ALLOWED_ORIGINS: "https://chat.example.com",
      PLEXI_BEHIND_TLS: "true",
      PLEXI_HSTS_MAX_AGE: "2 days"
    })).toEqual(Either.right({
      corsAllowedOrigins: ["https://app.example.com", "http://localhost:5173"],
      corsMaxAge: Duration.hours(1),
      wsAllowedOrigins: ["https://chat.example.com"],
      behindTls: true,
      hstsMaxAge: Duration.days(2)
    }))
    expect(read({ PLEXI_CORS_ALLOWED_ORIGINS: "" })).toEqual(Either.right(defaults))
  })

  itRefuses(config, [
    ["PLEXI_CORS_ALLOWED_ORIGINS", "https://app.example.com/"],
    ["PLEXI_CORS_ALLOWED_ORIGINS", "https://app.example.com/path"],
    ["PLEXI_CORS_ALLOWED_ORIGINS", "app.example.com"],
    ["PLEXI_CORS_ALLOWED_ORIGINS", "*"],
    ["PLEXI_CORS_ALLOWED_ORIGINS", "https://APP.example.com"],
    ["PLEXI_WS_ALLOWED_ORIGINS", "https://chat.example.com:443"],
    ["PLEXI_WS_ALLOWED_ORIGINS", "ftp://chat.example.com"],
    ["PLEXI_CORS_MAX_AGE", "0 seconds"],
    ["PLEXI_BEHIND_TLS", "maybe"],
    ["PLEXI_HSTS_MAX_AGE", "forever"]
  ])
})

describe("OriginPolicy and SecurityHeaders", () => {
  it("CORS allows listed origins only, and always answers Vary: Origin", () => {
    const headers = corsAnswerHeaders(corsAllows(settings({ corsAllowedOrigins: ["https://a.example"] })))
    expect(headers("https://a.example")).toEqual([["access-control-allow-origin", "https://a.example"], ["vary", "Origin"]])
    expect(headers("https://b.example")).toEqual([["vary", "Origin"]])
    expect(headers(null)).toEqual([["vary", "Origin"]])
    expect(corsAllows(defaults)("https://a.example")).toBe(false)
  })

  it("a WebSocket upgrade passes without an Origin, from the same host (case and default port aside), or listed", () => {
    const allows = upgradeAllows(settings({ wsAllowedOrigins: ["https://chat.example"] }))
    const cases: ReadonlyArray<readonly [origin: string, host: string, allowed: boolean]> = [
      ["", "node.example", true],
      ["https://node.example", "node.example", true],
      ["https://node.example", "NODE.example:443", true],
      ["http://node.example:8080", "node.example:8080", true],
      ["http://[::1]:8080", "[::1]:8080", true],
      ["https://chat.example", "node.example", true],
      ["http://node.example:8081", "node.example:8080", false],
      ["https://evil.example", "node.example", false],
      ["null", "node.example", false],
      ["https://node.example", "", false],
      ["not an origin", "node.example", false],
      ["https://node.example", "node.example/x@evil", false]
    ]
    for (const [origin, host, allowed] of cases) expect(allows(origin, host), `Origin ${origin}, Host ${host}`).toBe(allowed)
  })

  it("HSTS only behind TLS, with max-age in whole seconds", () => {
    expect(securityHeaders(defaults).map(([name]) => name)).not.toContain("strict-transport-security")
    expect(securityHeaders(settings({ behindTls: true, hstsMaxAge: Duration.days(1) }))).toContainEqual(["strict-transport-security", "max-age=86400"])
  })
})
