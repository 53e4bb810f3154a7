/**
 * The Channel entity's serial lane (src/entities/channel/SerialLane.ts): the direct post takes it only when it is
 * free, without a fiber; Effect handlers queue for it in order and each gets it after the one before released it,
 * whether the holder was a handler or the direct post.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { makeSerialLane } from "../../src/entities/channel/SerialLane.ts"

describe("SerialLane", () => {
  it("tryTake succeeds once while free and again after release", () => {
    const lane = makeSerialLane()
    expect(lane.tryTake()).toBe(true)
    expect(lane.tryTake()).toBe(false)
    lane.release()
    expect(lane.tryTake()).toBe(true)
    lane.release()
  })

  it.effect("a handler's run waits while the direct post holds the lane, and runs once it is released", () =>
    Effect.gen(function*() {
      const lane = makeSerialLane()
      const order: Array<string> = []
      expect(lane.tryTake()).toBe(true)
      const first = yield* Effect.fork(lane.run(Effect.sync(() => order.push("handler 1"))))
      const second = yield* Effect.fork(lane.run(Effect.sync(() => order.push("handler 2"))))
      yield* Effect.yieldNow()
      expect(order).toEqual([])
      order.push("direct released")
      lane.release()
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      expect(order).toEqual(["direct released", "handler 1", "handler 2"])
      expect(lane.tryTake()).toBe(true)
      lane.release()
    }))

  it.effect("tryTake refuses while a handler runs, and succeeds after it ended", () =>
    Effect.gen(function*() {
      const lane = makeSerialLane()
      const inside = yield* Deferred.make<void>()
      const leave = yield* Deferred.make<void>()
      const handler = yield* Effect.fork(lane.run(Effect.zipRight(Deferred.succeed(inside, void 0), Deferred.await(leave))))
      yield* Deferred.await(inside)
      expect(lane.tryTake()).toBe(false)
      yield* Deferred.succeed(leave, void 0)
      yield* Fiber.join(handler)
      expect(lane.tryTake()).toBe(true)
      lane.release()
    }))
})
