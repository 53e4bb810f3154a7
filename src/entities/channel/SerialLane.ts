/**
 * The one-at-a-time lane of a Channel entity's serial handlers. Effect
 * handlers (the mailbox's requests) queue for it in order; the direct post
 * (`DirectPost.ts`) takes it only when it is free, synchronously, and
 * otherwise goes the Effect way. A released lane is handed straight to the
 * next waiter, so nobody can slip in between.
 */
import { Effect } from "effect"

export interface SerialLane {
  /** Runs `effect` holding the lane (waiting for it in turn). */
  readonly run: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Takes the lane if it is free; the caller must `release` it. */
  readonly tryTake: () => boolean
  /** Releases the lane taken with `tryTake` (or hands it to the next waiter). */
  readonly release: () => void
}

export const makeSerialLane = (): SerialLane => {
  let held = false
  const waiting: Array<() => void> = []

  const release = () => {
    const next = waiting.shift()
    if (next !== undefined) next()
    else held = false
  }

  // Once `wake` ran the lane belongs to the waiter: an async effect that was resumed succeeds even if an
  // interruption arrives at the same moment, and `run` then releases it.
  const take = Effect.async<void>((resume) => {
    if (!held) {
      held = true
      return resume(Effect.void)
    }
    const wake = () => resume(Effect.void)
    waiting.push(wake)
    return Effect.sync(() => {
      const i = waiting.indexOf(wake)
      if (i >= 0) waiting.splice(i, 1)
    })
  })

  return {
    run: (effect) =>
      Effect.uninterruptibleMask((restore) => Effect.zipRight(restore(take), Effect.ensuring(restore(effect), Effect.sync(release)))),
    tryTake: () => {
      if (held) return false
      held = true
      return true
    },
    release
  }
}
