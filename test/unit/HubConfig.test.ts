/**
 * The hub and outbox settings: defaults, values from the environment, and a
 * zero or negative size or duration refused with the variable's name.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect } from "effect"
import * as HubConfig from "../../src/messaging/HubConfig.ts"

const read = (env: Record<string, string>) =>
  HubConfig.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

describe("HubConfig", () => {
  it.effect("defaults to the documented values and derives the hub and outbox options from them", () =>
    Effect.gen(function*() {
      const c = yield* read({})
      expect(c).toEqual(HubConfig.defaults)
      expect(HubConfig.hubOptions(c, Duration.seconds(1))).toEqual({
        stallMs: 3000,
        ringSize: 1024,
        attachTimeoutMs: 10_000,
        streamBuffer: 4096
      })
      expect(HubConfig.outboxOptions(c)).toEqual({ maxBatch: 1000, maxQueue: 20_000, postTimeoutMs: 10_000 })
    }))

  it.effect("reads every variable", () =>
    Effect.gen(function*() {
      const c = yield* read({
        PLEXI_HUB_RING_SIZE: "16",
        PLEXI_HUB_ATTACH_TIMEOUT: "2 seconds",
        PLEXI_HUB_STREAM_BUFFER: "32",
        PLEXI_HUB_STALL_KEEPALIVES: "5",
        PLEXI_OUTBOX_MAX_BATCH: "10",
        PLEXI_OUTBOX_MAX_QUEUE: "100",
        PLEXI_POST_TIMEOUT: "4 seconds"
      })
      expect(HubConfig.hubOptions(c, Duration.millis(200))).toEqual({
        stallMs: 1000,
        ringSize: 16,
        attachTimeoutMs: 2000,
        streamBuffer: 32
      })
      expect(HubConfig.outboxOptions(c)).toEqual({ maxBatch: 10, maxQueue: 100, postTimeoutMs: 4000 })
    }))

  it.effect.each([
    ["PLEXI_HUB_RING_SIZE", "0"],
    ["PLEXI_HUB_STREAM_BUFFER", "-1"],
    ["PLEXI_HUB_STALL_KEEPALIVES", "1"],
    ["PLEXI_OUTBOX_MAX_BATCH", "0"],
    ["PLEXI_OUTBOX_MAX_QUEUE", "-5"],
    ["PLEXI_OUTBOX_MAX_QUEUE", "ten"],
    ["PLEXI_POST_TIMEOUT", "0 millis"],
    ["PLEXI_HUB_ATTACH_TIMEOUT", "soon"]
  ])("refuses %s=%s, naming the variable", ([name, value]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(read({ [name]: value }))
      expect(String(error)).toContain(name)
    }))
})
