/**
 * The hub's stall sweep (src/messaging/hub/StallWatch.ts) on the TestClock: a
 * watched consumption that records no chunk for `stallMs` fails with
 * `FeedStalled` (within one sweep interval), one that keeps recording chunks
 * never does, one that has not recorded its first chunk yet has `openMs`
 * instead, and a finished one is no longer watched.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, TestClock } from "effect"
import { makeStallWatch } from "../../src/messaging/hub/StallWatch.ts"

const stallMs = 600
const settle = Effect.repeatN(Effect.yieldNow(), 20)

/** The tag of the error the fiber failed with (or its exit, when it did not fail). */
const failureTag = (fiber: Fiber.Fiber<unknown, { readonly _tag: string }>) =>
  Effect.map(Fiber.await(fiber), (exit) => (Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : exit))

describe("StallWatch", () => {
  // A silent consumption has stallMs by default, or openMs when one is given (it never records a first chunk).
  it.effect.each([{ limit: "stallMs", openMs: undefined }, { limit: "openMs", openMs: 5 * stallMs }])(
    "fails a silent consumption with FeedStalled after $limit, not before",
    ({ openMs }) =>
      Effect.scoped(Effect.gen(function*() {
        const watch = yield* makeStallWatch(stallMs, openMs)
        const fiber = yield* Effect.fork(watch(() => Effect.never))
        yield* TestClock.adjust(openMs ?? stallMs)
        yield* settle
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust(stallMs / 6 + 1)
        yield* settle
        expect(yield* failureTag(fiber)).toBe("FeedStalled")
      }))
  )

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

  it.scoped("before its first chunk a consumption has openMs, then stallMs", () =>
    Effect.gen(function*() {
      const openMs = 5 * stallMs
      const watch = yield* makeStallWatch(stallMs, openMs)
      let touch: (() => void) | undefined
      const fiber = yield* Effect.fork(watch((t) => Effect.zipRight(Effect.sync(() => touch = t), Effect.never)))
      yield* TestClock.adjust(openMs - 1)
      yield* settle
      expect(fiber.unsafePoll()).toBeNull()
      touch!()
      yield* TestClock.adjust(stallMs)
      yield* settle
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(stallMs / 6 + 1)
      yield* settle
      expect(yield* failureTag(fiber)).toBe("FeedStalled")
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
