/**
 * Per-user token buckets for the request/response front doors (REST and
 * typed RPC). WebSocket connections have their own per-connection bucket in
 * the gateway. Buckets live on the node that serves the request, so a user
 * spreading requests over N nodes gets up to N times the rate.
 */
import { Context, Effect, Layer } from "effect"
import { RateLimited } from "../../domain/Errors.ts"
import type { UserId } from "../../domain/Ids.ts"

export interface RateLimitOptions {
  /** Requests per second, sustained. */
  readonly rate: number
  /** Requests allowed in a burst. */
  readonly burst: number
}

interface Bucket {
  tokens: number
  refilledAt: number
}

export class RateLimiter extends Context.Tag("plexichat/RateLimiter")<RateLimiter, {
  /** Takes one token for `userId`, or fails with `RateLimited` and how long to wait. */
  readonly take: (userId: UserId) => Effect.Effect<void, RateLimited>
}>() {
  static readonly make = (options: RateLimitOptions): RateLimiter["Type"] => {
    const buckets = new Map<UserId, Bucket>()
    let sweptAt = Date.now()
    return {
      take: (userId) =>
        Effect.suspend(() => {
          const now = Date.now()
          // Forget idle users (their bucket would be full again anyway).
          if (now - sweptAt > 60_000) {
            sweptAt = now
            for (const [id, b] of buckets) if ((now - b.refilledAt) / 1000 * options.rate >= options.burst) buckets.delete(id)
          }
          const bucket = buckets.get(userId) ?? { tokens: options.burst, refilledAt: now }
          bucket.tokens = Math.min(options.burst, bucket.tokens + ((now - bucket.refilledAt) / 1000) * options.rate)
          bucket.refilledAt = now
          buckets.set(userId, bucket)
          if (bucket.tokens >= 1) {
            bucket.tokens -= 1
            return Effect.void
          }
          return Effect.fail(new RateLimited({ retryAfterMs: Math.ceil(((1 - bucket.tokens) / options.rate) * 1000) }))
        })
    }
  }

  static readonly layer = (options: RateLimitOptions) => Layer.sync(RateLimiter, () => RateLimiter.make(options))
}
