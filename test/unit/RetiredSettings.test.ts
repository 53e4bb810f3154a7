/** The removed development tokens' variables: a node that still finds one set names it in a warning, never its value. */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Logger } from "effect"
import { retiredInUse, warnRetiredSettings } from "../../src/config/RetiredSettings.ts"

const withEnv = (env: Record<string, string>) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("RetiredSettings", () => {
  it.effect("finds none in an environment without them", () =>
    Effect.gen(function*() {
      expect(yield* retiredInUse.pipe(withEnv({ PLEXI_AUTH_ACCESS_TTL: "5 minutes" }))).toEqual([])
    }))

  it.effect("warns once per retired variable set, naming it and what replaced it, without its value", () =>
    Effect.gen(function*() {
      const logged: Array<{ level: string; message: string }> = []
      const logger = Logger.make(({ logLevel, message }) => {
        logged.push({ level: logLevel.label, message: String(Array.isArray(message) ? message.join(" ") : message) })
      })
      yield* warnRetiredSettings.pipe(
        withEnv({ PLEXI_DEV_AUTH: "true", PLEXI_DEV_TOKEN_SECRET: "the-old-secret-value", PORT: "8080" }),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      expect(logged.map((l) => l.level)).toEqual(["WARN", "WARN"])
      expect(logged[0]!.message).toMatch(/^PLEXI_DEV_AUTH is set but no longer has any effect: .*POST \/api\/v1\/auth\/register/)
      expect(logged[1]!.message).toMatch(/^PLEXI_DEV_TOKEN_SECRET is set but no longer has any effect: .*PLEXI_AUTH_SIGNING_KEYS/)
      expect(JSON.stringify(logged)).not.toContain("the-old-secret-value")
    }))
})
