import { ConfigProvider, Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { config, defaults } from "../../runtime/edge/HttpConfig.ts"

const read = (env: Record<string, string>) =>
  Effect.runSync(Effect.either(Effect.withConfigProvider(config, ConfigProvider.fromMap(new Map(Object.entries(env))))))

describe("HttpConfig", () => {
  it("takes the documented defaults when nothing is set", () => {
    expect(read({})).toEqual(Either.right(defaults))
    expect(defaults).toEqual({ maxBodyBytes: 1024 * 1024, maxHeaderBytes: 16 * 1024, maxJsonDepth: 32 })
  })

  it("reads every variable", () => {
    expect(read({
      PLEXI_HTTP_MAX_BODY_BYTES: "2048",
      PLEXI_HTTP_MAX_JSON_DEPTH: "8",
      PLEXI_HTTP_MAX_HEADER_BYTES: "4096"
    })).toEqual(Either.right({ maxBodyBytes: 2048, maxHeaderBytes: 4096, maxJsonDepth: 8 }))
  })

  it.each([
    ["PLEXI_HTTP_MAX_BODY_BYTES", "-5"],
    ["PLEXI_HTTP_MAX_BODY_BYTES", "0"],
    ["PLEXI_HTTP_MAX_JSON_DEPTH", "0"],
    ["PLEXI_HTTP_MAX_HEADER_BYTES", "0"],
    ["PLEXI_HTTP_MAX_JSON_DEPTH", "1.5"]
  ])("refuses %s=%s at start-up with an error naming the variable", (name, value) => {
    const result = read({ [name]: value })
    expect(Either.isLeft(result)).toBe(true)
    expect(String(Either.isLeft(result) ? result.left : "")).toContain(name)
  })
})
