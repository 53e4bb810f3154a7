/**
 * The one-at-a-time lane of a Channel entity's serial handlers: an Effect
 * semaphore of one permit. Effect handlers (the mailbox's requests) queue for
 * it in order, as they always did; the direct post (`DirectPost.ts`) takes
 * it only when it is free, synchronously, and otherwise goes the Effect way.
 *
 * Whether the permit is free is read from the semaphore's `free` count (the
 * pinned effect 3.22 keeps it on its Semaphore); a semaphore without one
 * never lets the direct post in, so everything then goes the Effect way.
 * The direct post takes and gives back the permit by the semaphore's own
 * `taken` count, as its `withPermitsIfAvailable` does, when no Effect handler
 * waits; with waiters the release goes through the semaphore's `release`,
 * which resumes them in order. (Each `Effect.runSync` of `take`/`release`
 * made a fiber: two per batch, ~4% of the node's busy time at thin traffic.)
 * A hand-written lane (waiters resumed directly on release) was tried first:
 * under 1,000 creates and subscribes at once it left subscribes unanswered
 * (test/cluster/GracefulStopFollowed.test.ts), so the queueing stays Effect's.
 */
import { Effect } from "effect"

export interface SerialLane {
  /** Runs `effect` holding the lane (waiting for it in turn). */
  readonly run: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Takes the lane if it is free; the caller must `release` it. */
  readonly tryTake: () => boolean
  /** Releases the lane taken with `tryTake`. */
  readonly release: () => void
}

/** The fields of effect 3.22's Semaphore the direct post uses (checked at construction). */
interface SemaphoreFields {
  taken: number
  readonly free: number
  readonly waiters: { readonly size: number }
}

const fieldsOf = (permit: Effect.Semaphore): SemaphoreFields | undefined => {
  const s = permit as unknown as Partial<SemaphoreFields>
  return typeof s.taken === "number" && typeof s.free === "number" && typeof s.waiters?.size === "number" ? s as SemaphoreFields : undefined
}

export const makeSerialLane = (): SerialLane => {
  const permit = Effect.unsafeMakeSemaphore(1)
  const fields = fieldsOf(permit)
  const give = permit.release(1)
  return {
    run: permit.withPermits(1),
    tryTake: () => {
      if (fields === undefined || fields.free !== 1) return false
      fields.taken += 1
      return true
    },
    release: () => {
      if (fields!.waiters.size === 0) fields!.taken -= 1
      else Effect.runSync(give)
    }
  }
}
