/**
 * A node's side of a cluster-wide budget (`LeasedBudget`), on a fake clock
 * and a fake holder: leases grow with demand, a flood on an empty bucket
 * costs one lease call per refill interval, a failing holder means a local
 * bucket for a while, and a callback that throws does not keep other takes
 * from their answer.
 */
import { describe, expect, it } from "vitest"
import type { Lease } from "../../domain/User.ts"
import { FALLBACK_MS, LeasedBudget } from "../../src/api/LeasedBudget.ts"
import { fullBucket, takeUpTo } from "../../src/api/TokenBucket.ts"

const setup = (answer: "bucket" | "fail" | "hold" = "bucket") => {
  const clock = { now: 0 }
  const bucket = { rate: 20, burst: 20 }
  const shared = fullBucket(bucket, 0)
  const calls: Array<number> = []
  const held: Array<(lease: Lease | undefined) => void> = []
  const budget = new LeasedBudget<string>({ bucket, leaseMs: 250, leaseTtlMs: 5000, maxWaiters: 3 }, (_k, want, done) => {
    calls.push(want)
    if (answer === "hold") held.push(done)
    else done(answer === "fail" ? undefined : takeUpTo(shared, bucket, want, clock.now))
  }, () => clock.now)
  const take = () => {
    let got: number | undefined
    budget.take("u", (ms) => (got = ms))
    return got
  }
  return { clock, calls, held, budget, take }
}

describe("LeasedBudget", () => {
  it("leases more as demand grows, at most a quarter second of the rate", () => {
    const { calls, take } = setup()
    for (let i = 0; i < 12; i++) expect(take()).toBe(0)
    expect(calls).toEqual([1, 2, 4, 5])
  })

  it("refuses a flood on an empty bucket locally: one lease call per refill interval", () => {
    const { calls, clock, take } = setup()
    let admitted = 0
    for (let t = 0; t < 1000; t += 5) {
      clock.now = t
      for (let i = 0; i < 10; i++) if (take() === 0) admitted++
    }
    // The burst, and 20/s for one second.
    expect(admitted).toBeGreaterThanOrEqual(38)
    expect(admitted).toBeLessThanOrEqual(40)
    // Far fewer calls than the 2,000 takes.
    expect(calls.length).toBeLessThan(60)
  })

  it("falls back to a local bucket at the rate when the holder fails, and asks again after a while", () => {
    const { calls, clock, take } = setup("fail")
    const answers = Array.from({ length: 25 }, take)
    expect(answers.filter((ms) => ms === 0)).toHaveLength(20)
    expect(calls).toHaveLength(1)
    clock.now = FALLBACK_MS
    take()
    expect(calls).toHaveLength(2)
  })

  it("queues takes while a lease call is in flight, refuses past maxWaiters, and answers every queued take", () => {
    const { held, take } = setup("hold")
    const answers = Array.from({ length: 5 }, take)
    // The first three wait for the lease; the rest are refused at once.
    expect(answers).toEqual([undefined, undefined, undefined, 50, 50])
    held[0]!({ granted: 2, retryAfterMs: 40 })
    expect(take()).toBe(40)
  })

  it("answers the other waiting takes even when one callback throws", () => {
    const { budget, held } = setup("hold")
    const got: Array<number> = []
    budget.take("u", () => {
      throw new Error("boom")
    })
    budget.take("u", (ms) => got.push(ms))
    // One token for the first take (which throws), a refusal for the second, in the same delivery.
    expect(() => held[0]!({ granted: 1, retryAfterMs: 30 })).toThrow("boom")
    expect(got).toEqual([30])
  })
})
