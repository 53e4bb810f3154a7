/**
 * Per-user token buckets for the request/response front doors (REST and
 * typed RPC); the WebSocket gateway uses the same bucket per connection
 * (`src/api/TokenBucket.ts`). Buckets live on the node that serves the
 * request, so a user spreading requests over N nodes gets up to N times the
 * rate. Time comes from `Clock`.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { RateLimited } from "../../domain/Errors.ts"
import type { UserId } from "../../domain/Ids.ts"
import { fullBucket, isFullAt, take, type TokenBucket, type TokenBucketOptions } from "./TokenBucket.ts"

export type RateLimitOptions = TokenBucketOptions

/** How often buckets of idle users are forgotten. */
const SWEEP_MS = 60_000

export class RateLimiter extends Context.Tag("plexichat/RateLimiter")<RateLimiter, {
  /** Takes one token for `userId`, or fails with `RateLimited` and how long to wait. */
  readonly take: (userId: UserId) => Effect.Effect<void, RateLimited>
}>() {
  static readonly make = (options: RateLimitOptions): RateLimiter["Type"] => {
    const buckets = new Map<UserId, TokenBucket>()
    let sweptAt: number | undefined
    return {
      take: (userId) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          sweptAt ??= now
          // Forget idle users (their bucket would be full again anyway).
          if (now - sweptAt > SWEEP_MS) {
            sweptAt = now
            for (const [id, b] of buckets) if (isFullAt(b, options, now)) buckets.delete(id)
          }
          let bucket = buckets.get(userId)
          if (bucket === undefined) {
            bucket = fullBucket(options, now)
            buckets.set(userId, bucket)
          }
          const waitMs = take(bucket, options, now)
          return waitMs === 0 ? Effect.void : Effect.fail(new RateLimited({ retryAfterMs: waitMs }))
        })
    }
  }

  static readonly layer = (options: RateLimitOptions) => Layer.sync(RateLimiter, () => RateLimiter.make(options))
}
