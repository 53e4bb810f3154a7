/**
 * The cluster-wide per-user budgets of this node (posts, joins, REST and
 * RPC requests): one
 * `LeasedBudget` per budget, leasing tokens from the user's User entity
 * (`LeaseTokens`), wherever in the cluster it runs. docs/SECURITY.md
 * ("Rate limits") says why leases and what they cost.
 */
import { Context, Duration, Effect, FiberSet, Layer } from "effect"
import { RateLimited } from "../../domain/Errors.ts"
import type { UserId } from "../../domain/Ids.ts"
import { type Budget, UserEntity } from "../../domain/User.ts"
import { LeasedBudget } from "./LeasedBudget.ts"
import { UserBudgetConfig } from "./UserBudgetConfig.ts"
import { rateLimited } from "../observability/ChatMetrics.ts"

/** A lease call not answered within this counts as failed (the node falls back to a local bucket). */
const LEASE_TIMEOUT = Duration.seconds(2)

/**
 * Lease sizing: a lease holds at most a quarter second of the rate, and its
 * unspent tokens are dropped after 5 s. What a node holds, not how long, is
 * what could exceed the rate (at most `LEASE_MS` of it per node), so the
 * lifetime can be long enough that a user posting every few seconds still
 * spends several posts per lease call.
 */
const LEASE_MS = 250
const LEASE_TTL_MS = 5_000
const MAX_WAITERS = 10_000

const answered = (waitMs: number, budget: Budget): Effect.Effect<void, RateLimited> => {
  if (waitMs === 0) return Effect.void
  rateLimited[`user_${budget}`].update(1)
  return Effect.fail(new RateLimited({ retryAfterMs: waitMs }))
}

export class UserBudgets extends Context.Tag("plexichat/UserBudgets")<UserBudgets, {
  /** Takes one token of `budget` for `userId`: `resume(0)`, or `resume(ms)` to wait. No fiber while a lease lasts. */
  readonly take: (userId: UserId, budget: Budget, resume: (waitMs: number) => void) => void
  /** `take` as an effect: fails with `RateLimited` and how long to wait. */
  readonly takeEffect: (userId: UserId, budget: Budget) => Effect.Effect<void, RateLimited>
}>() {
  static readonly layer = Layer.scoped(
    UserBudgets,
    Effect.gen(function*() {
      const settings = yield* UserBudgetConfig
      const users = yield* UserEntity.client
      const clock = yield* Effect.clock
      const run = yield* FiberSet.makeRuntime<never>()
      const now = () => clock.unsafeCurrentTimeMillis()
      const make = (budget: Budget) =>
        new LeasedBudget<UserId>(
          { bucket: settings[budget], leaseMs: LEASE_MS, leaseTtlMs: LEASE_TTL_MS, maxWaiters: MAX_WAITERS },
          (userId, want, done) =>
            void run(users(userId).LeaseTokens({ budget, want }).pipe(
              Effect.timeout(LEASE_TIMEOUT),
              Effect.matchCauseEffect({
                onSuccess: (lease) => Effect.sync(() => done(lease)),
                onFailure: (cause) =>
                  Effect.zipRight(
                    Effect.logWarning("user budget lease failed; using this node's own bucket for a while", cause),
                    Effect.sync(() => done(undefined))
                  )
              })
            )),
          now
        )
      const budgets: Record<Budget, LeasedBudget<UserId>> = { post: make("post"), join: make("join"), api: make("api") }
      const take = (userId: UserId, budget: Budget, resume: (waitMs: number) => void) => budgets[budget].take(userId, resume)
      return UserBudgets.of({
        take,
        takeEffect: (userId, budget) =>
          Effect.suspend(() => {
            // While a lease is held (or a refusal), `take` answers at once: no async boundary then.
            let answer: number | undefined
            let waiting: ((waitMs: number) => void) | undefined
            take(userId, budget, (waitMs) => {
              if (waiting === undefined) answer = waitMs
              else waiting(waitMs)
            })
            if (answer !== undefined) return answered(answer, budget)
            return Effect.async<void, RateLimited>((resume) => {
              if (answer !== undefined) return resume(answered(answer, budget))
              waiting = (waitMs) => resume(answered(waitMs, budget))
            })
          })
      })
    })
  )
}
