/**
 * The per-user request budget of REST and RPC (`RateLimiter`, the `api`
 * budget of `UserBudgets`) through the in-process cluster: a burst, then
 * `RateLimited` with how long to wait; one budget per user; and one budget
 * for two nodes' limiters (each its own `UserBudgets`, leasing from the same
 * User entity). The token bucket itself is tested below.
 */
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Either, Layer, Schedule } from "effect"
import { describe, it } from "vitest"
import { UserId } from "../../domain/Ids.ts"
import { RateLimiter } from "../../src/api/RateLimiter.ts"
import { fullBucket, take } from "../../src/api/TokenBucket.ts"
import { UserBudgets } from "../../src/api/UserBudgets.ts"
import { inMemoryCluster } from "../fixtures/InMemoryCluster.ts"

let users = 0
const freshUser = () => UserId.make(`u_rl_${process.pid}_${users++}`)

/** A limiter of its own, as another node has (its own leases of the same User entities). */
const anotherNode = Effect.map(
  Layer.build(RateLimiter.layer.pipe(Layer.provide(Layer.fresh(UserBudgets.layer)))),
  (context) => Context.get(context, RateLimiter)
)

const cluster = inMemoryCluster({ budgets: { api: { rate: 2, burst: 3 } } })

layer(RateLimiter.layer.pipe(Layer.provideMerge(UserBudgets.layer), Layer.provideMerge(cluster)), {
  excludeTestServices: true,
  timeout: "60 seconds"
})("RateLimiter (the cluster-wide api budget)", (it) => {
  it.effect("allows a burst per user, then refuses with how long to wait (at most one token's time), and refills", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      const alice = freshUser()
      const first = yield* Effect.forEach([1, 2, 3, 4], () => Effect.either(limiter.take(alice)))
      expect(first.map(Either.isRight)).toEqual([true, true, true, false])
      const refused = first[3]!
      expect(Either.isLeft(refused) && refused.left._tag).toBe("RateLimited")
      // 2/s: one token every 500 ms.
      const waitMs = Either.isLeft(refused) ? refused.left.retryAfterMs : 0
      expect(waitMs).toBeGreaterThan(0)
      expect(waitMs).toBeLessThanOrEqual(500)
      // Another user has a budget of their own.
      expect(Either.isRight(yield* Effect.either(limiter.take(freshUser())))).toBe(true)
      // The budget refills: polled (a refused take spends nothing) until a take succeeds, within a few refill periods.
      const refilled = yield* limiter.take(alice).pipe(Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 150 }), Effect.either)
      expect(Either.isRight(refilled)).toBe(true)
    }))

  it.scoped("shares one budget between two nodes' limiters: what one spent, the other cannot take", () =>
    Effect.gen(function*() {
      const here = yield* RateLimiter
      const there = yield* anotherNode
      const bob = freshUser()
      const takes = yield* Effect.forEach([here, there, here, there, here, there], (l) => Effect.either(l.take(bob)))
      expect(takes.filter(Either.isRight).length).toBe(3)
      for (const t of takes.filter(Either.isLeft)) expect(t.left.retryAfterMs).toBeGreaterThan(0)
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
