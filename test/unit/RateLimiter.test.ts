import { it } from "@effect/vitest"
import { Effect, Either, TestClock } from "effect"
import { describe, expect } from "vitest"
import { UserId } from "../../domain/Ids.ts"
import { RateLimiter } from "../../src/api/RateLimiter.ts"
import { fullBucket, take } from "../../src/api/TokenBucket.ts"

describe("RateLimiter", () => {
  it.effect("allows a burst per user, then refuses with how long to wait, and refills over time", () =>
    Effect.gen(function*() {
      const limiter = RateLimiter.make({ rate: 20, burst: 3 })
      const alice = UserId.make("alice")
      const bob = UserId.make("bob")
      const first = yield* Effect.forEach([1, 2, 3, 4], () => Effect.either(limiter.take(alice)))
      expect(first.map(Either.isRight)).toEqual([true, true, true, false])
      const refused = first[3]!
      expect(Either.isLeft(refused) && refused.left._tag).toBe("RateLimited")
      // 20/s: one token every 50 ms.
      expect(Either.isLeft(refused) && refused.left.retryAfterMs).toBe(50)
      // Another user has a budget of their own.
      expect(Either.isRight(yield* Effect.either(limiter.take(bob)))).toBe(true)
      yield* TestClock.adjust("49 millis")
      expect(Either.isLeft(yield* Effect.either(limiter.take(alice)))).toBe(true)
      yield* TestClock.adjust("1 millis")
      expect(Either.isRight(yield* Effect.either(limiter.take(alice)))).toBe(true)
    }))
})

describe("TokenBucket", () => {
  it("refills at the rate up to the burst, never beyond, and tells the wait", () => {
    const options = { rate: 10, burst: 2 }
    const bucket = fullBucket(options, 0)
    expect([take(bucket, options, 0), take(bucket, options, 0), take(bucket, options, 0)]).toEqual([0, 0, 100])
    // A long pause refills only up to the burst.
    expect([take(bucket, options, 10_000), take(bucket, options, 10_000), take(bucket, options, 10_000)]).toEqual([0, 0, 100])
    // A clock going backwards neither refills nor throws.
    expect(take(bucket, options, 5_000)).toBe(100)
  })
})
