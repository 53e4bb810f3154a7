/**
 * A node's side of a cluster-wide budget (the posts of one user, say): the
 * node leases a few tokens at a time from the budget's one bucket (held by
 * the User entity, `LeaseTokens`) and spends them locally, so most takes cost
 * no entity call and a user spread over sockets and nodes still gets the
 * budget's rate in total. Free of Effect: `fetch` and `now` are injected, so
 * the invariants are tested with a fake bucket and a fake clock.
 *
 * - A lease holds at most `rate × leaseMs` tokens (and at most the burst);
 *   the size adapts to the local demand (doubled when a lease ran out before
 *   it expired, halved when one expired unspent), so an occasional poster
 *   leases one token and a busy one a few.
 * - Leased tokens unspent after `leaseTtlMs` are dropped (never carried over),
 *   so no node can hoard tokens for a later burst.
 * - When the bucket is empty, the node refuses locally until the bucket's
 *   `retryAfterMs` has passed: a flood costs at most one entity call per node
 *   and refill interval.
 * - When the entity cannot answer (`fetch` gives nothing: failover, a dead
 *   node), the node falls back to a local bucket of the budget's rate for
 *   `FALLBACK_MS`: posts keep flowing, at most N times the rate over N nodes.
 */
import type { UserId } from "../../domain/Ids.ts"
import type { Lease } from "../../domain/User.ts"
import { fullBucket, take, type TokenBucket, type TokenBucketOptions } from "./TokenBucket.ts"

export interface LeasedBudgetOptions {
  /** The budget's rate and burst (cluster-wide); also the local fallback bucket's. */
  readonly bucket: TokenBucketOptions
  /** One lease covers at most this much of the rate (tokens = rate × leaseMs / 1000, at least 1). */
  readonly leaseMs: number
  /** Leased tokens not spent within this are dropped. */
  readonly leaseTtlMs: number
  /** Takes waiting for one key's lease at most; more are refused at once. */
  readonly maxWaiters: number
}

/** The lease call: `done` gets the lease, or undefined when the budget's holder could not answer. */
export type LeaseFetch<K> = (key: K, want: number, done: (lease: Lease | undefined) => void) => void

/** How long a node uses its local fallback bucket after the budget's holder failed to answer. */
export const FALLBACK_MS = 5_000

/** Idle holdings are forgotten this often. */
const SWEEP_MS = 60_000

type Resume = (waitMs: number) => void

interface Holding {
  tokens: number
  expiresAt: number
  deniedUntil: number
  want: number
  /** Defined while a lease call is in flight: the takes waiting for it. */
  waiters: Array<Resume> | undefined
  fallback: TokenBucket | undefined
  fallbackUntil: number
}

export class LeasedBudget<K = UserId> {
  private readonly holdings = new Map<K, Holding>()
  private sweptAt: number | undefined
  /** The most tokens one lease asks for. */
  readonly maxLease: number

  constructor(
    private readonly options: LeasedBudgetOptions,
    private readonly fetch: LeaseFetch<K>,
    private readonly now: () => number
  ) {
    const { burst, rate } = options.bucket
    this.maxLease = Math.max(1, Math.min(Math.floor(burst), Math.ceil((rate * options.leaseMs) / 1000)))
  }

  /** Keys holding state (for tests and health). */
  get size() {
    return this.holdings.size
  }

  /**
   * Takes one token for `key`: `resume(0)` when taken, else `resume(ms)` with
   * how long to wait. Synchronous while the node holds a lease (or a refusal).
   */
  take(key: K, resume: Resume): void {
    const now = this.now()
    this.sweep(now)
    let h = this.holdings.get(key)
    if (h === undefined) {
      h = { tokens: 0, expiresAt: 0, deniedUntil: 0, want: 1, waiters: undefined, fallback: undefined, fallbackUntil: 0 }
      this.holdings.set(key, h)
    }
    if (h.waiters !== undefined) {
      if (h.waiters.length >= this.options.maxWaiters) return resume(this.oneTokenMs())
      h.waiters.push(resume)
      return
    }
    if (now < h.fallbackUntil && h.fallback !== undefined) return resume(take(h.fallback, this.options.bucket, now))
    if (h.tokens >= 1 && now < h.expiresAt) {
      h.tokens--
      return resume(0)
    }
    if (now < h.deniedUntil) return resume(h.deniedUntil - now)
    // Adapt the lease to the demand: spent before it expired means more is needed, expired unspent means less.
    if (now < h.expiresAt) h.want = Math.min(this.maxLease, h.want * 2)
    else if (h.tokens >= 1) h.want = Math.max(1, Math.floor(h.want / 2))
    h.tokens = 0
    this.lease(key, h, [resume])
  }

  private lease(key: K, h: Holding, waiters: Array<Resume>) {
    const want = Math.min(this.maxLease, Math.max(h.want, waiters.length))
    h.waiters = waiters
    this.fetch(key, want, (lease) => this.arrive(key, h, want, lease))
  }

  private arrive(key: K, h: Holding, want: number, lease: Lease | undefined) {
    const now = this.now()
    const waiters = h.waiters ?? []
    h.waiters = undefined
    const answers: Array<[Resume, number]> = []
    if (lease === undefined) {
      h.fallback ??= fullBucket(this.options.bucket, now)
      h.fallbackUntil = now + FALLBACK_MS
      for (const w of waiters) answers.push([w, take(h.fallback, this.options.bucket, now)])
    } else {
      h.tokens = Math.min(lease.granted, want)
      h.expiresAt = now + this.options.leaseTtlMs
      h.deniedUntil = lease.retryAfterMs > 0 ? now + lease.retryAfterMs : 0
      let i = 0
      for (; i < waiters.length && h.tokens >= 1; i++) {
        h.tokens--
        answers.push([waiters[i]!, 0])
      }
      const rest = waiters.slice(i)
      if (rest.length > 0 && h.deniedUntil > now) for (const w of rest) answers.push([w, h.deniedUntil - now])
      else if (rest.length > 0) {
        // Everything asked was granted but more takes came meanwhile: lease again for them.
        h.want = Math.min(this.maxLease, Math.max(rest.length, want * 2))
        this.lease(key, h, rest)
      }
    }
    // State first, callbacks last: a callback may take again. One that throws does not keep the others from their answer.
    let thrown: { readonly error: unknown } | undefined
    for (const [w, ms] of answers) {
      try {
        w(ms)
      } catch (error) {
        thrown ??= { error }
      }
    }
    if (thrown !== undefined) throw thrown.error
  }

  private oneTokenMs() {
    return Math.max(1, Math.ceil(1000 / this.options.bucket.rate))
  }

  private sweep(now: number) {
    this.sweptAt ??= now
    if (now - this.sweptAt < SWEEP_MS) return
    this.sweptAt = now
    for (const [key, h] of this.holdings) {
      if (h.waiters === undefined && now >= h.expiresAt && now >= h.deniedUntil && now >= h.fallbackUntil) this.holdings.delete(key)
    }
  }
}
