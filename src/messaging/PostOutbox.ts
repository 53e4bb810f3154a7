/**
 * Adaptive batching of posts on their way to Channel entities (directly to
 * those running on this node, `LocalChannels.ts`; through the cluster to the others).
 *
 * While a `Post` call to a channel is in flight, further posts for that
 * channel wait here and go out together as the next batch when the call
 * returns. An idle channel therefore sees one-message batches (lowest
 * latency), and a busy one sees batches that grow with the load, because an
 * entity call costs the same CPU whatever its size.
 *
 * Every post is answered exactly once, within `postTimeoutMs` (plus one
 * deadline sweep, `PostDeadline.ts`): with its
 * outcome, or with `ChannelUnavailable` when the channel gave no answer in
 * time (the call may still commit later; a retry with the same clientMsgId is
 * safe and returns the original message), when too many posts already wait
 * for the channel, or when the edge shuts down.
 */
import { Cause, Context, Effect, Either, Exit, FiberId, FiberSet, Layer, Schedule, type Tracer } from "effect"
import { ChannelEntity, type PostItem } from "../../domain/Channel.ts"
import type { ChannelId } from "../../domain/Ids.ts"
import { channelTransport } from "./ClusterTransport.ts"
import { countCall, countCallNow, LocalChannels } from "./LocalChannels.ts"
import { answerOnce, finish, makeExpire, monotonicMillis, sweepIntervalMs, type Waiting } from "./PostDeadline.ts"
import { channelBusy, fromCallFailure, type PostResult } from "./PostResult.ts"
import { type CallbackSpan, endSpan, startSpan } from "../observability/Tracing.ts"

export type { PostFailure, PostResult } from "./PostResult.ts"

export interface PostOutboxOptions {
  /** Posts sent to a channel in one call at most. */
  readonly maxBatch: number
  /** Posts waiting for one channel at most; past it posts fail at once with `ChannelUnavailable`. */
  readonly maxQueue: number
  /** A post whose outcome is not known by then is answered with `ChannelUnavailable`. */
  readonly postTimeoutMs: number
}

/** A batch's entity call: directly when the channel's entity runs on this node (`LocalChannels`), else through the cluster. */
const makeCall = (
  makeClient: Effect.Effect.Success<typeof ChannelEntity.client>,
  channels: LocalChannels["Type"]
) => {
  /** Through the cluster; suspended, so that even a call that throws while being built fails as an effect. */
  const remote = (channelId: ChannelId, items: ReadonlyArray<PostItem>) =>
    Effect.suspend(() => makeClient(channelId).Post({ items })).pipe(channelTransport(channelId))
  return (channelId: ChannelId, items: ReadonlyArray<PostItem>) => {
    const local = channels.get(channelId)
    if (local === undefined) return Effect.zipRight(countCall("cluster", "Post"), remote(channelId, items))
    return Effect.zipRight(countCall("local", "Post"), Effect.suspend(() => local.post(items))).pipe(
      Effect.catchTag("LocalChannelClosed", () => Effect.zipRight(countCall("cluster", "Post"), remote(channelId, items)))
    )
  }
}

/**
 * The span of a batch carrying a traced post (a child of that post's span), made outside fibers; else undefined.
 * `traced`: how many traced posts wait for the channel, so that an untraced batch is not searched.
 */
const batchSpan = (channelId: ChannelId, batch: ReadonlyArray<Waiting>, traced: Map<ChannelId, number>) => {
  const waiting = traced.get(channelId)
  if (waiting === undefined) return undefined
  const parent = batch.find((w) => w.span !== undefined)?.span
  if (parent !== undefined) {
    const left = waiting - batch.reduce((n, w) => w.span === undefined ? n : n + 1, 0)
    if (left > 0) traced.set(channelId, left)
    else traced.delete(channelId)
  }
  return parent === undefined
    ? undefined
    : startSpan(parent, "plexichat.outbox", { "plexichat.channel_id": channelId, "plexichat.batch_size": batch.length })
}

/** `effect` under the batch's span, which it ends (the Effect way: through the cluster, or a batch the direct way refused). */
const inBatchSpan = (span: CallbackSpan | undefined, effect: Effect.Effect<void>) =>
  span === undefined
    ? effect
    : effect.pipe(Effect.withParentSpan(span.span), Effect.onExit((exit) => Effect.sync(() => endSpan(span, exit))))

export class PostOutbox extends Context.Tag("plexichat/PostOutbox")<PostOutbox, {
  /**
   * Queues a post for its channel; `done` is called exactly once with the
   * result. For callers outside Effect (the WebSocket gateway): no fiber per message.
   */
  readonly submit: (channelId: ChannelId, item: PostItem, done: (result: PostResult) => void, span?: Tracer.AnySpan) => void
}>() {
  static readonly make = Effect.fnUntraced(function*(options: PostOutboxOptions) {
    const makeClient = yield* ChannelEntity.client
    const channels = yield* LocalChannels
    const clock = yield* Effect.clock
    const run = yield* FiberSet.makeRuntime<never>()
    const queues = new Map<ChannelId, Array<Waiting>>()
    /** The batch each channel's `Post` call in flight carries. */
    const inFlight = new Map<ChannelId, ReadonlyArray<Waiting>>()
    const traced = new Map<ChannelId, number>() // how many traced posts wait for each channel (`batchSpan`)

    const answer = answerOnce((error) => run(Effect.logError("post callback threw", error)))
    let closed = false
    // Runs before the FiberSet interrupts the drains (finalizers run in reverse order).
    yield* Effect.addFinalizer(() => Effect.sync(() => closed = true))
    const expire = makeExpire(clock, options.postTimeoutMs, answer)
    yield* Effect.sync(() => expire(inFlight, queues)).pipe(
      Effect.repeat(Schedule.spaced(sweepIntervalMs(options.postTimeoutMs))),
      Effect.forkScoped
    )

    const call = makeCall(makeClient, channels)

    /** Sends the channel's next batch (without a fiber when its entity here can take it: `postDirect`), or forgets the channel. */
    const next = (channelId: ChannelId): void => {
      const queue = queues.get(channelId)!
      if (queue.length === 0 || closed) {
        queues.delete(channelId)
        inFlight.delete(channelId)
        traced.delete(channelId)
        if (queue.length === 0) return
        const stopped = Either.left(fromCallFailure(channelId, Cause.interrupt(FiberId.none)))
        for (const waiting of queue.splice(0)) answer(waiting, stopped)
        return
      }
      const batch = queue.splice(0, options.maxBatch)
      inFlight.set(channelId, batch)
      // A batch carrying a traced post gets an outbox span under the post's, continued by the commit wherever it runs.
      const span = batchSpan(channelId, batch, traced)
      const local = channels.get(channelId)
      const direct = local !== undefined && local.postDirect(batch.map((w) => w.item), (exit) => {
        endSpan(span, exit)
        finish(answer, channelId, batch, exit)
        next(channelId)
      }, span?.trace)
      if (direct) return countCallNow("local", "Post")
      run(inBatchSpan(span, send(channelId, queue, batch)))
    }

    /** One batch through an entity call (direct or through the cluster), then the next batch. */
    const send = (channelId: ChannelId, queue: Array<Waiting>, batch: ReadonlyArray<Waiting>): Effect.Effect<void> =>
      call(channelId, batch.map((w) => w.item)).pipe(
        Effect.exit,
        Effect.map((exit) => finish(answer, channelId, batch, exit)),
        // Interrupted (the edge is shutting down) or died: nothing is left without an answer, and the channel's
        // queue is gone, so a later post starts afresh instead of waiting behind a dead call.
        Effect.onExit((exit) =>
          Exit.isSuccess(exit) ? Effect.void : Effect.sync(() => {
            if (queues.get(channelId) === queue) queues.delete(channelId)
            inFlight.delete(channelId)
            const stopped = Either.left(fromCallFailure(channelId, exit.cause))
            for (const waiting of [...batch, ...queue.splice(0)]) answer(waiting, stopped)
          })
        ),
        Effect.zipRight(Effect.sync(() => next(channelId)))
      )

    const submit = (channelId: ChannelId, item: PostItem, done: Waiting["done"], span?: Tracer.AnySpan) => {
      const waiting: Waiting = { item, done, deadline: monotonicMillis(clock) + options.postTimeoutMs, answered: false, span }
      if (closed) return answer(waiting, Either.left(fromCallFailure(channelId, Cause.interrupt(FiberId.none))))
      const queue = queues.get(channelId)
      // Backpressure: a channel that cannot keep up (e.g. during a failover) refuses rather than queueing without end.
      if (queue !== undefined && queue.length >= options.maxQueue) return answer(waiting, Either.left(channelBusy(channelId)))
      if (span !== undefined) traced.set(channelId, (traced.get(channelId) ?? 0) + 1)
      if (queue !== undefined) return void queue.push(waiting)
      queues.set(channelId, [waiting])
      next(channelId)
    }

    return PostOutbox.of({ submit })
  })

  static readonly layer = (options: PostOutboxOptions) => Layer.scoped(PostOutbox, PostOutbox.make(options))
}
