/**
 * CPU cost per post of the cluster-wide per-user post budget, in process
 * (in-memory cluster: SingleRunner, PGlite), in three cases:
 *
 * - `fast`: the node holds a lease (a user posting steadily): `take` is a map
 *   lookup and a decrement;
 * - `lease`: one `LeaseTokens` call to the User entity per post (the worst
 *   case: users who post less than once per lease lifetime, 1 s, so each post
 *   needs a fresh lease of one token); on a cluster the call may also cross nodes;
 * - `at-limit`: one user posting over the budget (20/s, burst 60) at 2,000
 *   takes per second for 2 s: refusals come from the local denial, leases
 *   only as the bucket refills (the CPU of the same loop without takes is
 *   subtracted).
 *
 *   node --import tsx test/bench/PostBudgetCost.ts
 *
 * Prints CPU µs of this process per take, and how many lease calls a user
 * posting every 50 ms to 10 s makes per post (simulated clock).
 */
import { Effect, Layer } from "effect"
import { UserId } from "../../domain/Ids.ts"
import { UserEntity } from "../../domain/User.ts"
import { LeasedBudget } from "../../src/api/LeasedBudget.ts"
import * as UserBudgetConfig from "../../src/api/UserBudgetConfig.ts"
import { UserBudgets } from "../../src/api/UserBudgets.ts"
import { inMemoryCluster } from "../fixtures/InMemoryCluster.ts"

const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

const perTake = (label: string, n: number, before: number) =>
  console.log(`${label}: ${((cpuUs() - before) / n).toFixed(2)} µs CPU per take (${n} takes)`)

const program = Effect.gen(function*() {
  const budgets = yield* UserBudgets
  const users = yield* UserEntity.client
  const take = (user: UserId) => new Promise<number>((resolve) => budgets.take(user, "post", resolve))

  // Warm-up: JIT, entity activation.
  for (let i = 0; i < 2000; i++) yield* Effect.promise(() => take(UserId.make(`u_warm${i % 20}`)))

  const fastUser = UserId.make("u_fast")
  yield* Effect.promise(() => take(fastUser))
  const FAST = 200_000
  let before = cpuUs()
  let admitted = 0
  for (let i = 0; i < FAST; i++) budgets.take(fastUser, "post", (ms) => void (ms === 0 && admitted++))
  perTake("fast (lease held)", FAST, before)

  const LEASES = 5000
  const ids = Array.from({ length: 100 }, (_, i) => UserId.make(`u_lease${i}`))
  for (const id of ids) yield* users(id).LeaseTokens({ budget: "post", want: 1 })
  before = cpuUs()
  yield* Effect.forEach(Array.from({ length: LEASES }, (_, i) => ids[i % ids.length]!), (id) => users(id).LeaseTokens({ budget: "post", want: 1 }), {
    concurrency: 16,
    discard: true
  })
  perTake("lease (one LeaseTokens call per post)", LEASES, before)
  return admitted
})

/** 2 s of a 10 ms loop taking `perTick` tokens a tick; returns the CPU µs it cost and the takes. */
const loop = (perTick: number) =>
  Effect.gen(function*() {
    const budgets = yield* UserBudgets
    const user = UserId.make("u_limited")
    let admitted = 0
    let takes = 0
    const before = cpuUs()
    const started = Date.now()
    while (Date.now() - started < 2000) {
      for (let i = 0; i < perTick; i++) {
        takes++
        budgets.take(user, "post", (ms) => void (ms === 0 && admitted++))
      }
      yield* Effect.sleep("10 millis")
    }
    return { cpu: cpuUs() - before, takes, admitted }
  })

const limited = Effect.gen(function*() {
  // The same loop without takes: the process's own background (timers, the cluster's runner) to subtract.
  const idle = yield* loop(0)
  const busy = yield* loop(20)
  console.log(
    `at-limit (${busy.admitted} of ${busy.takes} admitted): ${((busy.cpu - idle.cpu) / busy.takes).toFixed(2)} µs CPU per take ` +
      `over an idle loop's ${(idle.cpu / 1000).toFixed(0)} ms`
  )
})

/** Lease calls per post for one user posting every `intervalMs`, at the default budget (the bucket never runs dry). */
const callsPerPost = () => {
  for (const intervalMs of [50, 500, 2000, 4000, 10_000]) {
    let now = 0
    let calls = 0
    const budget = new LeasedBudget<string>(
      { bucket: UserBudgetConfig.defaults.post, leaseMs: 250, leaseTtlMs: 5000, maxWaiters: 10 },
      (_key, want, done) => {
        calls++
        done({ granted: want, retryAfterMs: 0 })
      },
      () => now
    )
    const POSTS = 1000
    for (let i = 0; i < POSTS; i++) {
      budget.take("u", () => {})
      now += intervalMs
    }
    console.log(`a post every ${intervalMs} ms: ${(calls / POSTS).toFixed(2)} LeaseTokens calls per post`)
  }
}

const stack = (budgets?: { post: { rate: number; burst: number } }) =>
  UserBudgets.layer.pipe(Layer.provideMerge(inMemoryCluster(budgets === undefined ? {} : { budgets })))

callsPerPost()
await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(stack()))))
await Effect.runPromise(Effect.scoped(limited.pipe(Effect.provide(stack({ post: { rate: 20, burst: 60 } })))))
process.exit(0)
