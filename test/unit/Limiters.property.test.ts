/**
 * Invariants of the limiters under random concurrency, on a fake clock and a
 * fake cluster: several nodes' `LeasedBudget`s leasing from one shared bucket
 * (the User entity's `takeUpTo`), with lease calls answered late and out of
 * order, or failing; and the login throttle's pure rules.
 */
import { fc, test } from "@fast-check/vitest"
import { describe, expect } from "vitest"
import { LeasedBudget } from "../../src/api/LeasedBudget.ts"
import { fullBucket, takeUpTo } from "../../src/api/TokenBucket.ts"
import { delayAfterFailures, judge, type LoginPolicy, reserve, type ThrottleRow } from "../../src/auth/LoginPolicy.ts"

/** One step of a run: a take on a node, time passing, or the delivery of a pending lease answer. */
const stepArb = fc.oneof(
  fc.record({ kind: fc.constant("take" as const), node: fc.nat({ max: 3 }), user: fc.nat({ max: 1 }) }),
  fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ kind: fc.constant("deliver" as const), pick: fc.nat(), fail: fc.boolean() })
)

const runArb = fc.record({
  rate: fc.integer({ min: 1, max: 50 }),
  burst: fc.integer({ min: 1, max: 60 }),
  failures: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 400 })
})

describe("LeasedBudget over several nodes sharing one bucket", () => {
  test.prop([runArb], { numRuns: 300 })(
    "answers every take exactly once, and never admits more than burst + rate × time in total while the bucket answers",
    ({ burst, failures, rate, steps }) => {
      let now = 0
      const bucket = { rate, burst }
      const shared = [fullBucket(bucket, 0), fullBucket(bucket, 0)]
      const pending: Array<() => void> = []
      const failed: Array<() => void> = []
      const nodes = Array.from({ length: 4 }, () =>
        new LeasedBudget<number>(
          { bucket, leaseMs: 250, leaseTtlMs: 1000, maxWaiters: 5 },
          (user, want, done) => {
            pending.push(() => done(takeUpTo(shared[user]!, bucket, want, now)))
            failed.push(() => done(undefined))
          },
          () => now
        ))
      let takes = 0
      const answers: Array<number> = []
      const admitted = [0, 0]
      let fellBack = false
      for (const step of steps) {
        if (step.kind === "tick") now += step.ms
        else if (step.kind === "take") {
          const index = takes++
          answers[index] = 0
          nodes[step.node]!.take(step.user, (waitMs) => {
            answers[index]!++
            if (waitMs === 0) admitted[step.user]!++
            else expect(waitMs).toBeGreaterThan(0)
          })
        } else if (pending.length > 0) {
          const i = step.pick % pending.length
          const [answer] = pending.splice(i, 1)
          const [failure] = failed.splice(i, 1)
          if (failures && step.fail) {
            fellBack = true
            failure!()
          } else answer!()
        }
      }
      // Deliver what is left, in order, as the run ends.
      while (pending.length > 0) {
        failed.shift()
        pending.shift()!()
      }
      expect(answers.every((n) => n === 1)).toBe(true)
      if (!fellBack) for (const n of admitted) expect(n).toBeLessThanOrEqual(burst + (rate * now) / 1000 + 1e-9)
    }
  )

  test.prop([fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 60 }), fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 50 })])(
    "takeUpTo never grants more than asked or held, and its refusals say how long until a token",
    (rate, burst, gaps) => {
      const options = { rate, burst }
      const bucket = fullBucket(options, 0)
      let now = 0
      let granted = 0
      for (const gap of gaps) {
        now += gap
        const want = 1 + (gap % 7)
        const lease = takeUpTo(bucket, options, want, now)
        expect(lease.granted).toBeLessThanOrEqual(want)
        expect(bucket.tokens).toBeGreaterThanOrEqual(0)
        if (lease.granted < want) expect(lease.retryAfterMs).toBeGreaterThan(0)
        granted += lease.granted
      }
      expect(granted).toBeLessThanOrEqual(burst + (rate * now) / 1000 + 1e-9)
    }
  )
})

const policyArb: fc.Arbitrary<LoginPolicy> = fc.record({
  delayAfter: fc.integer({ min: 1, max: 5 }),
  delayBaseMs: fc.integer({ min: 1, max: 2000 }),
  delayMaxMs: fc.integer({ min: 2000, max: 10_000 }),
  lockAfter: fc.integer({ min: 1, max: 12 }),
  lockMs: fc.integer({ min: 1000, max: 60_000 }),
  accountLockAfter: fc.constant(1_000_000),
  accountLockMs: fc.constant(1000),
  addressLockAfter: fc.constant(1_000_000),
  addressLockMs: fc.constant(1000),
  windowMs: fc.constant(10_000_000)
})

describe("login policy of one account from one address", () => {
  test.prop([policyArb, fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 60 })])(
    "admits at most lockAfter wrong attempts before the lock, each after the delay the failures before it earned",
    (policy, gaps) => {
      let now = 0
      let pair: ThrottleRow | undefined
      let lastAdmittedAt: number | undefined
      let admitted = 0
      for (const gap of gaps) {
        now += gap
        const verdict = judge({ pair, account: undefined, address: undefined }, policy, now)
        if (verdict._tag !== "Allowed") {
          expect(verdict.retryAfterMs).toBeGreaterThan(0)
          continue
        }
        if (lastAdmittedAt !== undefined) expect(now - lastAdmittedAt).toBeGreaterThanOrEqual(delayAfterFailures(admitted, policy))
        admitted++
        lastAdmittedAt = now
        pair = reserve(pair, policy, now)
      }
      // Within the lock's time no attempt gets through after the lockAfter-th.
      const span = now
      if (span < policy.lockMs) expect(admitted).toBeLessThanOrEqual(policy.lockAfter)
    }
  )
})
