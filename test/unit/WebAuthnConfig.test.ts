import { Duration, Either, Option } from "effect"
import { describe, expect, it } from "vitest"
import { config, defaults, expectedOrigins, originFitsRpId } from "../../src/auth/WebAuthnConfig.ts"
import { configError, itRefuses, readConfig } from "../fixtures/ConfigEnv.ts"

const read = (env: Record<string, string>) => readConfig(config, env)

describe("WebAuthnConfig", () => {
  it("is off by default: no RP id, so no ceremony can run", () => {
    expect(read({})).toEqual(Either.right(defaults))
    expect(defaults).toEqual({ rpId: Option.none(), rpName: "PlexiChat", origins: [], challengeTtl: Duration.minutes(2) })
  })

  it("reads every variable, and expects https://<rp id> when no origin is listed", () => {
    const settings = read({
      PLEXI_WEBAUTHN_RP_ID: "example.com",
      PLEXI_WEBAUTHN_RP_NAME: "Example Chat",
      PLEXI_WEBAUTHN_ORIGINS: "https://chat.example.com, https://example.com",
      PLEXI_WEBAUTHN_CHALLENGE_TTL: "90 seconds"
    })
    expect(settings).toEqual(Either.right({
      rpId: Option.some("example.com"),
      rpName: "Example Chat",
      origins: ["https://chat.example.com", "https://example.com"],
      challengeTtl: Duration.seconds(90)
    }))
    const alone = Either.getOrThrow(read({ PLEXI_WEBAUTHN_RP_ID: "chat.example.com" }))
    expect(expectedOrigins(alone, "chat.example.com")).toEqual(["https://chat.example.com"])
  })

  it("accepts an origin on the RP id or a subdomain of it, and no other", () => {
    expect(originFitsRpId("https://example.com", "example.com")).toBe(true)
    expect(originFitsRpId("https://chat.example.com:8443", "example.com")).toBe(true)
    expect(originFitsRpId("http://localhost:5173", "localhost")).toBe(true)
    expect(originFitsRpId("https://badexample.com", "example.com")).toBe(false)
    expect(originFitsRpId("https://example.com.evil.net", "example.com")).toBe(false)
  })

  it("refuses origins that the RP id cannot serve, and origins without an RP id", () => {
    expect(configError(config, { PLEXI_WEBAUTHN_RP_ID: "example.com", PLEXI_WEBAUTHN_ORIGINS: "https://evil.net" }))
      .toContain("PLEXI_WEBAUTHN_ORIGINS")
    expect(configError(config, { PLEXI_WEBAUTHN_ORIGINS: "https://example.com" })).toContain("PLEXI_WEBAUTHN_RP_ID")
  })

  itRefuses(config, [
    ["PLEXI_WEBAUTHN_RP_ID", "https://example.com"],
    ["PLEXI_WEBAUTHN_RP_ID", "example.com:443"],
    ["PLEXI_WEBAUTHN_RP_ID", "Example.com"],
    ["PLEXI_WEBAUTHN_RP_ID", "example.com/path"],
    ["PLEXI_WEBAUTHN_RP_ID", ""],
    ["PLEXI_WEBAUTHN_RP_NAME", ""],
    ["PLEXI_WEBAUTHN_ORIGINS", "https://example.com/"],
    ["PLEXI_WEBAUTHN_CHALLENGE_TTL", "0 seconds"]
  ])
})
