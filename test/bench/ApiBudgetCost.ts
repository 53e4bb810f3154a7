/**
 * CPU cost per request of the cluster-wide per-user request budget
 * (`RateLimiter`, the `api` budget of `UserBudgets`, taken in the REST and
 * RPC authentication middleware), in process (in-memory cluster:
 * SingleRunner, PGlite):
 *
 * - `held`: the node holds a lease (a user making requests steadily): the
 *   take is a map lookup and a decrement, answered without an async boundary;
 * - `refused`: a user over the budget (rate 20/s): refusals come from the
 *   node's local denial until the bucket's retry time (most of their cost is
 *   making the `RateLimited` error).
 *
 * Each is compared with the per-node limiter it replaced (a token bucket per
 * user in a map, read with `Clock`) at the same budget.
 *
 * Each figure has the same loop's cost with `Effect.void` subtracted.
 *
 *   node --import tsx test/bench/ApiBudgetCost.ts
 */
import { Clock, Effect, Layer } from "effect"
import { RateLimited } from "../../domain/Errors.ts"
import { UserId } from "../../domain/Ids.ts"
import { RateLimiter } from "../../src/api/RateLimiter.ts"
import { fullBucket, take } from "../../src/api/TokenBucket.ts"
import { UserBudgets } from "../../src/api/UserBudgets.ts"
import { inMemoryCluster } from "../fixtures/InMemoryCluster.ts"

const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

const N = 200_000

/** CPU µs per iteration of `N` runs of `effect`, errors ignored. */
const cost = (effect: Effect.Effect<void, RateLimited>) =>
  Effect.gen(function*() {
    const once = Effect.ignore(effect)
    const before = cpuUs()
    for (let i = 0; i < N; i++) yield* once
    return (cpuUs() - before) / N
  })

/** The per-node limiter this replaced: one bucket per user in a map, time from `Clock`. */
const perNode = (options: { readonly rate: number; readonly burst: number }) => {
  const buckets = new Map<UserId, ReturnType<typeof fullBucket>>()
  return (userId: UserId) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      let bucket = buckets.get(userId)
      if (bucket === undefined) buckets.set(userId, bucket = fullBucket(options, now))
      const waitMs = take(bucket, options, now)
      return waitMs === 0 ? Effect.void : Effect.fail(new RateLimited({ retryAfterMs: waitMs }))
    })
}

const program = (label: string, user: UserId, api: { readonly rate: number; readonly burst: number }) =>
  Effect.gen(function*() {
    const limiter = yield* RateLimiter
    // Warm-up: JIT, entity activation, the first lease.
    yield* cost(limiter.take(user))
    const loop = yield* cost(Effect.void)
    const held = yield* cost(limiter.take(user))
    const old = perNode(api)
    const bucket = yield* cost(old(user))
    console.log(`${label}: ${(held - loop).toFixed(3)} µs CPU per request (per-node bucket: ${(bucket - loop).toFixed(3)} µs; loop ${loop.toFixed(3)} µs)`)
  })

const stack = (api: { readonly rate: number; readonly burst: number }) =>
  RateLimiter.layer.pipe(Layer.provideMerge(UserBudgets.layer), Layer.provideMerge(inMemoryCluster({ budgets: { api } })))

const generous = { rate: 1_000_000, burst: 1_000_000 }
const tight = { rate: 20, burst: 20 }
await Effect.runPromise(Effect.scoped(program("held (lease held)", UserId.make("u_fast"), generous).pipe(Effect.provide(stack(generous)))))
await Effect.runPromise(Effect.scoped(program("refused (over 20/s)", UserId.make("u_limited"), tight).pipe(Effect.provide(stack(tight)))))
process.exit(0)
