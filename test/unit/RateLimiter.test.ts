import { it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { describe, expect } from "vitest"
import { UserId } from "../../domain/Ids.ts"
import { RateLimiter } from "../../src/api/RateLimiter.ts"

describe("RateLimiter", () => {
  it.live("allows a burst per user, then refuses with how long to wait, and refills over time", () =>
    Effect.gen(function*() {
      const limiter = RateLimiter.make({ rate: 20, burst: 3 })
      const alice = UserId.make("alice")
      const bob = UserId.make("bob")
      const first = yield* Effect.forEach([1, 2, 3, 4], () => Effect.either(limiter.take(alice)))
      expect(first.map(Either.isRight)).toEqual([true, true, true, false])
      const refused = first[3]!
      expect(Either.isLeft(refused) && refused.left._tag).toBe("RateLimited")
      expect(Either.isLeft(refused) && refused.left.retryAfterMs).toBeGreaterThan(0)
      // Another user has a budget of their own.
      expect(Either.isRight(yield* Effect.either(limiter.take(bob)))).toBe(true)
      // 20/s refills one token in 50 ms.
      yield* Effect.sleep("80 millis")
      expect(Either.isRight(yield* Effect.either(limiter.take(alice)))).toBe(true)
    }))
})
