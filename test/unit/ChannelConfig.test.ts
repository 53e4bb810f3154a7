/**
 * The channel unit's settings: defaults, values read from the environment
 * (a `ConfigProvider` from a map here), and start-up errors that name the
 * variable for a count or size below 1 and a keep-alive of 0.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Context, Duration, Effect, Exit, Layer } from "effect"
import * as ChannelConfig from "../../src/entities/ChannelConfig.ts"

const read = (env: Record<string, string>) =>
  Effect.exit(Effect.scoped(Layer.build(ChannelConfig.layerFromEnv()).pipe(
    Effect.map((ctx) => Context.get(ctx, ChannelConfig.ChannelConfig)),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
  )))

describe("ChannelConfig", () => {
  it.effect("defaults when nothing is set", () =>
    Effect.gen(function*() {
      const exit = yield* read({})
      expect(exit).toEqual(Exit.succeed(ChannelConfig.defaults))
      expect(ChannelConfig.defaults).toMatchObject({ commitFlushers: 2, maxBatchRows: 4000, windowSize: 512 })
    }))

  it.effect("reads every variable", () =>
    Effect.gen(function*() {
      const exit = yield* read({
        PLEXI_COMMIT_FLUSHERS: "3",
        PLEXI_COMMIT_MAX_BATCH_ROWS: "100",
        PLEXI_COMMIT_LINGER: "0 millis",
        PLEXI_FEED_KEEPALIVE: "250 millis",
        PLEXI_FEED_BUFFER: "64",
        PLEXI_CHANNEL_WINDOW: "16",
        PLEXI_CHANNEL_DEDUPE_LOAD: "32",
        PLEXI_CHANNEL_DEDUPE_MAX: "1000"
      })
      expect(Exit.isSuccess(exit)).toBe(true)
      if (Exit.isSuccess(exit)) {
        expect({
          ...exit.value,
          feedKeepAlive: Duration.toMillis(exit.value.feedKeepAlive),
          commitLinger: Duration.toMillis(exit.value.commitLinger)
        }).toEqual({
          commitFlushers: 3,
          maxBatchRows: 100,
          commitLinger: 0,
          feedKeepAlive: 250,
          feedBuffer: 64,
          windowSize: 16,
          dedupeLoad: 32,
          dedupeMax: 1000
        })
      }
    }))

  for (const [name, value] of [
    ["PLEXI_COMMIT_FLUSHERS", "0"],
    ["PLEXI_COMMIT_MAX_BATCH_ROWS", "-5"],
    ["PLEXI_FEED_BUFFER", "0"],
    ["PLEXI_CHANNEL_WINDOW", "0"],
    ["PLEXI_CHANNEL_DEDUPE_LOAD", "-1"],
    ["PLEXI_CHANNEL_DEDUPE_MAX", "0"],
    ["PLEXI_FEED_KEEPALIVE", "0 millis"],
    ["PLEXI_COMMIT_LINGER", "101 millis"],
    ["PLEXI_COMMIT_LINGER", "soon"],
    ["PLEXI_COMMIT_FLUSHERS", "two"]
  ] as const) {
    it.effect(`${name}=${value} is a start-up error naming ${name}`, () =>
      Effect.gen(function*() {
        const exit = yield* read({ [name]: value })
        expect(Exit.isFailure(exit)).toBe(true)
        expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain(name)
      }))
  }
})
