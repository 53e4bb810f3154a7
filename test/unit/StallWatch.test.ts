/**
 * The hub's stall sweep (src/messaging/hub/StallWatch.ts) on the TestClock: a
 * watched consumption that records no chunk for `stallMs` fails with
 * `FeedStalled` (within one sweep interval), one that keeps recording chunks
 * never does, and a finished one is no longer watched.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, TestClock } from "effect"
import { makeStallWatch } from "../../src/messaging/hub/StallWatch.ts"

const stallMs = 600
const settle = Effect.repeatN(Effect.yieldNow(), 20)

describe("StallWatch", () => {
  it.scoped("fails a silent consumption with FeedStalled after stallMs, not before", () =>
    Effect.gen(function*() {
      const watch = yield* makeStallWatch(stallMs)
      const fiber = yield* Effect.fork(watch(() => Effect.never))
      yield* TestClock.adjust(stallMs)
      yield* settle
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(stallMs / 6 + 1)
      yield* settle
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : exit).toBe("FeedStalled")
    }))

  it.scoped("never fails a consumption that records a chunk more often than stallMs", () =>
    Effect.gen(function*() {
      const watch = yield* makeStallWatch(stallMs)
      let touch: (() => void) | undefined
      const fiber = yield* Effect.fork(watch((t) => Effect.zipRight(Effect.sync(() => touch = t), Effect.never)))
      yield* settle
      for (let i = 0; i < 20; i++) {
        touch!()
        yield* TestClock.adjust(stallMs / 2)
        yield* settle
      }
      expect(fiber.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(fiber)
    }))

  it.scoped("a consumption that ended on its own answers its own outcome and is not stalled later", () =>
    Effect.gen(function*() {
      const watch = yield* makeStallWatch(stallMs)
      const exit = yield* Effect.exit(watch(() => Effect.fail("gap" as const)))
      expect(exit).toEqual(Exit.fail("gap"))
      yield* TestClock.adjust(10 * stallMs)
      const ok = yield* watch(() => Effect.succeed(1))
      expect(ok).toBe(1)
    }))
})
