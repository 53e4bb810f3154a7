/**
 * The one-at-a-time lane of a Channel entity's serial handlers: an Effect
 * semaphore of one permit. Effect handlers (the mailbox's requests) queue for
 * it in order, as they always did; the direct post (`DirectPost.ts`) takes
 * it only when it is free, synchronously, and otherwise goes the Effect way.
 *
 * Whether the permit is free is read from the semaphore's `free` count (the
 * pinned effect 3.22 keeps it on its Semaphore); a semaphore without one
 * never lets the direct post in, so everything then goes the Effect way.
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

export const makeSerialLane = (): SerialLane => {
  const permit = Effect.unsafeMakeSemaphore(1)
  const free = () => (permit as unknown as { readonly free?: unknown }).free
  const take = permit.take(1)
  const give = permit.release(1)
  return {
    run: permit.withPermits(1),
    tryTake: () => {
      if (free() !== 1) return false
      // A free permit is taken at once (no waiting), so this runs to its end synchronously.
      Effect.runSync(take)
      return true
    },
    release: () => {
      Effect.runSync(give)
    }
  }
}
