/**
 * The outbox's post deadline: while a channel's `Post` call is in flight,
 * posts whose deadline passes (in the batch sent, or still queued behind it)
 * are answered with "no answer" at once, and the call's own outcome later
 * reaches only those still unanswered. Every post is answered exactly once.
 */
import { Cause, type Clock, Effect, Either, Exit, type Fiber, Option } from "effect"
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

/**
 * `settle(channelId, batch, queue, call)` waits for the call, answering
 * posts whose deadline passes meanwhile, then answers the rest of the batch.
 */
export const makeSettle = (clock: Clock.Clock, postTimeoutMs: number, answer: ReturnType<typeof answerOnce>) => {
  const expire = (channelId: ChannelId, batch: ReadonlyArray<Waiting>, queue: Array<Waiting>) => {
    const now = clock.unsafeCurrentTimeMillis()
    const late = Either.left(noAnswer(channelId, postTimeoutMs))
    for (const waiting of batch) if (waiting.deadline <= now) answer(waiting, late)
    // Never sent, so never committed: dropped from the queue.
    while (queue.length > 0 && queue[0]!.deadline <= now) answer(queue.shift()!, late)
  }

  const finish = (channelId: ChannelId, batch: ReadonlyArray<Waiting>, exit: Exit.Exit<ReadonlyArray<PostOutcome>, PostFailure>) => {
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

  const settle = (
    channelId: ChannelId,
    batch: ReadonlyArray<Waiting>,
    queue: Array<Waiting>,
    call: Fiber.Fiber<ReadonlyArray<PostOutcome>, PostFailure>
  ): Effect.Effect<void> =>
    Effect.suspend(() => {
      // Queued posts came after the batch, so the next deadline is the first unanswered one of either.
      const next = batch.find((w) => !w.answered)?.deadline ?? queue[0]?.deadline
      const exit = next === undefined
        ? Effect.asSome(call.await)
        : Effect.timeoutOption(call.await, Math.max(0, next - clock.unsafeCurrentTimeMillis()))
      return Effect.flatMap(exit, (result) => {
        if (Option.isSome(result)) return Effect.sync(() => finish(channelId, batch, result.value))
        expire(channelId, batch, queue)
        return settle(channelId, batch, queue, call)
      })
    })

  return settle
}
