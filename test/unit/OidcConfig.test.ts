/** OidcConfig: no provider by default, a provider from its variables, and what it refuses (naming the variable). */
import { ConfigProvider, Duration, Effect, Either, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import * as OidcConfig from "../../src/auth/oidc/OidcConfig.ts"
import { usernameFrom } from "../../src/auth/oidc/OidcSignIn.ts"

const read = (env: Record<string, string>) =>
  Effect.runSync(Effect.either(Effect.withConfigProvider(OidcConfig.config, ConfigProvider.fromMap(new Map(Object.entries(env))))))

const corp = {
  PLEXI_OIDC_PROVIDERS: "corp-sso",
  PLEXI_OIDC_CORP_SSO_ISSUER: "https://login.example.com/realms/main",
  PLEXI_OIDC_CORP_SSO_CLIENT_ID: "plexichat",
  PLEXI_OIDC_CORP_SSO_CLIENT_SECRET: "very-secret-value",
  PLEXI_PUBLIC_URL: "https://chat.example.com"
}

describe("OidcConfig", () => {
  it("has no provider, a 10-minute flow and linking by verified email by default", () => {
    const result = read({})
    expect(result).toEqual(Either.right({ providers: [], flowTtl: Duration.minutes(10), linkByEmail: true }))
  })

  it("reads a provider, its redirect URI under PLEXI_PUBLIC_URL, and keeps its secret redacted", () => {
    const result = read(corp)
    if (Either.isLeft(result)) throw new Error(String(result.left))
    const [p] = result.right.providers
    expect(p!.id).toBe("corp-sso")
    expect(p!.name).toBe("corp-sso")
    expect(p!.issuer.href).toBe("https://login.example.com/realms/main")
    expect(p!.redirectUri.href).toBe("https://chat.example.com/api/v1/auth/oidc/corp-sso/callback")
    expect(p!.scopes).toBe("openid email profile")
    expect(p!.allowHttp).toBe(false)
    expect(String(p!.clientSecret)).not.toContain("very-secret")
    expect(Redacted.value(p!.clientSecret)).toBe("very-secret-value")
  })

  it("takes an explicit redirect URI, and adds openid to the scopes", () => {
    const result = read({ ...corp, PLEXI_OIDC_CORP_SSO_REDIRECT_URI: "https://app.example.com/oidc", PLEXI_OIDC_CORP_SSO_SCOPES: "email" })
    if (Either.isLeft(result)) throw new Error(String(result.left))
    expect(result.right.providers[0]!.redirectUri.href).toBe("https://app.example.com/oidc")
    expect(result.right.providers[0]!.scopes).toBe("openid email")
  })

  it.each([
    ["PLEXI_OIDC_PROVIDERS", "a bad id", { PLEXI_OIDC_PROVIDERS: "Bad_Id" }],
    ["PLEXI_OIDC_PROVIDERS", "an id twice", { PLEXI_OIDC_PROVIDERS: "a,a" }],
    ["PLEXI_OIDC_CORP_SSO_ISSUER", "plain HTTP", { ...corp, PLEXI_OIDC_CORP_SSO_ISSUER: "http://login.example.com" }],
    ["PLEXI_OIDC_CORP_SSO_ISSUER", "not a URL", { ...corp, PLEXI_OIDC_CORP_SSO_ISSUER: "not a url" }],
    ["PLEXI_OIDC_CORP_SSO_CLIENT_ID", "empty", { ...corp, PLEXI_OIDC_CORP_SSO_CLIENT_ID: "" }],
    ["PLEXI_OIDC_CORP_SSO_CLIENT_SECRET", "missing", { ...corp, PLEXI_OIDC_CORP_SSO_CLIENT_SECRET: undefined }],
    ["PLEXI_OIDC_CORP_SSO_REDIRECT_URI", "missing without PLEXI_PUBLIC_URL", { ...corp, PLEXI_PUBLIC_URL: undefined }],
    ["PLEXI_PUBLIC_URL", "not http(s)", { ...corp, PLEXI_PUBLIC_URL: "ftp://x" }]
  ])("refuses %s (%s), naming it", (name, _what, env) => {
    const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>
    const result = read(clean)
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(String(result.left)).toContain(name)
      expect(String(result.left)).not.toContain("very-secret-value")
    }
  })

  it("accepts a plain-HTTP issuer only with ALLOW_HTTP", () => {
    const result = read({ ...corp, PLEXI_OIDC_CORP_SSO_ISSUER: "http://127.0.0.1:9000", PLEXI_OIDC_CORP_SSO_ALLOW_HTTP: "true" })
    expect(Either.isRight(result)).toBe(true)
  })
})

describe("usernameFrom", () => {
  it.each([
    ["alice", undefined, "alice"],
    ["Jörg Müller", undefined, "JorgMuller"],
    ["__x", undefined, "xuser"],
    ["日本", undefined, "user"],
    ["a".repeat(40), undefined, "a".repeat(32)],
    ["a".repeat(40), "1234", `${"a".repeat(27)}-1234`],
    ["", "1234", "user-1234"]
  ])("makes a valid username of %j (suffix %s)", (hint, suffix, expected) => {
    const name = usernameFrom(hint === "" ? Option.none() : Option.some(hint), suffix)
    expect(name).toBe(expected)
    expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/)
  })
})
