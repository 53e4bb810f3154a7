/**
 * The outbox's post deadline. One sweep per outbox, not a timer per batch:
 * every `sweepMs` it answers the posts whose deadline has passed, whether in
 * the batch a channel's `Post` call carries or still queued behind it, with
 * "no answer". The call's own outcome later reaches only the posts still
 * unanswered. Every post is answered exactly once, at most `sweepMs` after
 * its deadline.
 */
import { Cause, type Clock, Either, Exit, type Tracer } from "effect"
import type { PostItem, PostOutcome } from "../../domain/Channel.ts"
import type { ChannelId } from "../../domain/Ids.ts"
import { fromCallFailure, fromOutcome, noAnswer, type PostFailure, type PostResult } from "./PostResult.ts"

/** A post waiting for its answer. */
export interface Waiting {
  readonly item: PostItem
  readonly done: (result: PostResult) => void
  /** Clock time (ms) by which the post gets an answer. */
  readonly deadline: number
  answered: boolean
  /** The post's trace span, when it was sampled (src/observability/Tracing.ts). */
  readonly span?: Tracer.AnySpan | undefined
}

/** Answers a post unless it was answered already; `onThrow` hears of a callback that threw. */
export const answerOnce = (onThrow: (error: unknown) => void) => (waiting: Waiting, result: PostResult) => {
  if (waiting.answered) return
  waiting.answered = true
  try {
    waiting.done(result)
  } catch (error) {
    // One caller's broken callback must not strand the rest of the batch or the channel's queue.
    onThrow(error)
  }
}

/** Milliseconds on the clock's monotonic time (nanoseconds), so a wall-clock step never moves a deadline. */
export const monotonicMillis = (clock: Clock.Clock) => Number(clock.unsafeCurrentTimeNanos() / 1_000_000n)

/** How often the sweep runs: a tenth of the deadline, between 10 ms and 1 s. */
export const sweepIntervalMs = (postTimeoutMs: number) => Math.min(1000, Math.max(10, Math.floor(postTimeoutMs / 10)))

/** Answers every item of a finished call that is still unanswered with its own outcome (or the call's failure). */
export const finish = (
  answer: ReturnType<typeof answerOnce>,
  channelId: ChannelId,
  batch: ReadonlyArray<Waiting>,
  exit: Exit.Exit<ReadonlyArray<PostOutcome>, PostFailure>
) => {
  for (let i = 0; i < batch.length; i++) {
    const outcome = Exit.isSuccess(exit) ? exit.value[i] : undefined
    answer(
      batch[i]!,
      outcome !== undefined
        ? fromOutcome(outcome)
        : Either.left(fromCallFailure(channelId, Exit.isFailure(exit) ? exit.cause : Cause.die("no outcome for an item")))
    )
  }
}

/**
 * `expire(inFlight, queues)` answers the late posts of every channel: in the
 * batch in flight (it may still commit later: a retry is safe), and at the
 * head of the queue (never sent, so never committed: dropped from it).
 */
export const makeExpire = (clock: Clock.Clock, postTimeoutMs: number, answer: ReturnType<typeof answerOnce>) =>
(
  inFlight: ReadonlyMap<ChannelId, ReadonlyArray<Waiting>>,
  queues: ReadonlyMap<ChannelId, Array<Waiting>>
) => {
  const now = monotonicMillis(clock)
  for (const [channelId, batch] of inFlight) {
    // Posts of a batch were queued in order, so the first one not late ends the scan.
    for (const waiting of batch) {
      if (waiting.deadline > now) break
      answer(waiting, Either.left(noAnswer(channelId, postTimeoutMs)))
    }
    const queue = queues.get(channelId)
    if (queue === undefined) continue
    let late = 0
    while (late < queue.length && queue[late]!.deadline <= now) late++
    for (const waiting of queue.splice(0, late)) answer(waiting, Either.left(noAnswer(channelId, postTimeoutMs)))
  }
}
