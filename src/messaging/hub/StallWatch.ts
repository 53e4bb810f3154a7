/**
 * Stall detection for the hub's stream feeds, one sweep for the whole edge:
 * a feed that followed an entity through the cluster and got no chunk (or
 * keep-alive) for `stallMs` is failed with `FeedStalled` and reopened (its
 * owner died or stopped without ending the stream). Before its first chunk a
 * stream has `openMs` instead: opening waits for the owner to activate the
 * entity and answer, which a busy owner does slower than a keep-alive
 * interval, and a stream reopened then only queues a second open behind the
 * first (measured: 1,000 subscribes across 3 nodes on 2 cores reopened each
 * feed up to 8 times, and the nodes never caught up). A per-stream timeout
 * would race a timer fiber against every pull, about 60 µs per chunk
 * (measured: Stream.timeoutFail, 17 → 75 µs per element); here a chunk only
 * records when it came.
 */
import { Data, Deferred, Effect, Exit, Fiber, FiberId, Schedule } from "effect"
import { monotonicMillis } from "../PostDeadline.ts"

/** No chunk or keep-alive came within `stallMs` (the owning node died): reopen. */
export class FeedStalled extends Data.TaggedError("FeedStalled") {}

interface Watched {
  lastAt: number
  /** `openMs` until the first chunk, then `stallMs`. */
  limit: number
  readonly stall: () => void
}

export const makeStallWatch = Effect.fnUntraced(function*(stallMs: number, openMs: number = stallMs) {
  const clock = yield* Effect.clock
  const watched = new Set<Watched>()
  yield* Effect.sync(() => {
    const now = monotonicMillis(clock)
    for (const w of watched) {
      if (now - w.lastAt <= w.limit) continue
      watched.delete(w)
      w.stall()
    }
  }).pipe(Effect.repeat(Schedule.spaced(Math.max(10, Math.floor(stallMs / 6)))), Effect.forkScoped)

  /**
   * Runs `use` (the consumption of a stream) and fails it with `FeedStalled`
   * when it went `openMs` before its first `touch` (once per chunk), or
   * `stallMs` between two. The
   * stalled stream is interrupted in the background: a cluster stream's
   * interruption can wait seconds for an answer from its dead owner.
   */
  return <A, E, R>(use: (touch: () => void) => Effect.Effect<A, E, R>): Effect.Effect<A, E | FeedStalled, R> =>
    Effect.suspend(() => {
      const stalled = Deferred.unsafeMake<never, FeedStalled>(FiberId.none)
      const w: Watched = {
        lastAt: monotonicMillis(clock),
        limit: openMs,
        stall: () => Deferred.unsafeDone(stalled, Exit.fail(new FeedStalled()))
      }
      watched.add(w)
      const touch = () => {
        w.lastAt = monotonicMillis(clock)
        w.limit = stallMs
      }
      return Effect.raceWith(use(touch), Deferred.await(stalled), {
        onSelfDone: (exit, timer) => Effect.zipRight(Fiber.interruptFork(timer), exit),
        onOtherDone: (exit, stream) => Effect.zipRight(Fiber.interruptFork(stream), exit)
      }).pipe(Effect.ensuring(Effect.sync(() => watched.delete(w))))
    })
})
