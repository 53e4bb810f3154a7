/**
 * The one token bucket behind every rate limit (WebSocket frames per
 * connection, REST/RPC requests per user). Pure: callers pass the time,
 * read from `Clock`, so tests drive it with `TestClock`.
 */

export interface TokenBucketOptions {
  /** Tokens per second, sustained. */
  readonly rate: number
  /** Tokens held at most (the burst). */
  readonly burst: number
}

export interface TokenBucket {
  tokens: number
  refilledAt: number
}

export const fullBucket = (options: TokenBucketOptions, now: number): TokenBucket => ({ tokens: options.burst, refilledAt: now })

const refill = (bucket: TokenBucket, options: TokenBucketOptions, now: number) => {
  // A clock that went backwards refills nothing (and never drains).
  const elapsed = Math.max(0, now - bucket.refilledAt)
  bucket.tokens = Math.min(options.burst, bucket.tokens + (elapsed / 1000) * options.rate)
  bucket.refilledAt = now
}

/**
 * Takes one token at `now` (milliseconds). Returns 0 when it was taken, else
 * how many milliseconds until one is available (at least 1).
 */
export const take = (bucket: TokenBucket, options: TokenBucketOptions, now: number): number => {
  refill(bucket, options, now)
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1
    return 0
  }
  return Math.max(1, Math.ceil(((1 - bucket.tokens) / options.rate) * 1000))
}

/** True when the bucket would be full at `now`: it can be forgotten. */
export const isFullAt = (bucket: TokenBucket, options: TokenBucketOptions, now: number): boolean =>
  bucket.tokens + (Math.max(0, now - bucket.refilledAt) / 1000) * options.rate >= options.burst

/**
 * Takes up to `want` whole tokens at `now` (a lease of a budget): returns how
 * many were taken and, when fewer than `want`, how many milliseconds until the
 * next one (else 0). Never takes more than the bucket holds.
 */
export const takeUpTo = (
  bucket: TokenBucket,
  options: TokenBucketOptions,
  want: number,
  now: number
): { readonly granted: number; readonly retryAfterMs: number } => {
  refill(bucket, options, now)
  const granted = Math.max(0, Math.min(Math.floor(want), Math.floor(bucket.tokens)))
  bucket.tokens -= granted
  const retryAfterMs = granted < want ? Math.max(1, Math.ceil(((1 - bucket.tokens) / options.rate) * 1000)) : 0
  return { granted, retryAfterMs }
}
