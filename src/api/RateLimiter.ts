/**
 * The per-user request budget of the request/response front doors (REST and
 * typed RPC), taken in their authentication middleware: the `api` budget of
 * `UserBudgets`, so it holds cluster-wide (nodes lease tokens from the
 * user's User entity; a held lease is an in-memory take). The WebSocket
 * gateway limits frames per connection instead (`src/api/TokenBucket.ts`).
 */
import { Context, Effect, Layer } from "effect"
import type { RateLimited } from "../../domain/Errors.ts"
import type { UserId } from "../../domain/Ids.ts"
import { UserBudgets } from "./UserBudgets.ts"

export class RateLimiter extends Context.Tag("plexichat/RateLimiter")<RateLimiter, {
  /** Takes one token for `userId`, or fails with `RateLimited` and how long to wait. */
  readonly take: (userId: UserId) => Effect.Effect<void, RateLimited>
}>() {
  /** The cluster-wide `api` budget (`PLEXI_API_RATE_LIMIT` / `_BURST`, read by `UserBudgetConfig`). */
  static readonly layer = Layer.effect(
    RateLimiter,
    Effect.map(UserBudgets, (budgets) => RateLimiter.of({ take: (userId) => budgets.takeEffect(userId, "api") }))
  )
}
