/**
 * Adaptive batching of posts on their way to Channel entities.
 *
 * While a `Post` call to a channel is in flight, further posts for that
 * channel wait here and go out together as the next batch when the call
 * returns. An idle channel therefore sees one-message batches (lowest
 * latency), and a busy one sees batches that grow with the load, because an
 * entity call costs the same CPU whatever its size.
 */
import { Context, Effect, Exit, FiberSet, Layer } from "effect"
import { ChannelEntity, type PostItem, type PostOutcome } from "../../domain/Channel.ts"
import { ChannelNotFound, ChannelUnavailable } from "../../domain/Errors.ts"
import type { ChannelId } from "../../domain/Ids.ts"

export type PostFailure = ChannelNotFound | ChannelUnavailable

export interface PostOutboxOptions {
  /** Posts sent to a channel in one call at most. */
  readonly maxBatch: number
  /** Posts waiting for one channel at most; past it posts fail at once with `ChannelUnavailable`. */
  readonly maxQueue: number
}

interface Waiting {
  readonly item: PostItem
  readonly done: (exit: Exit.Exit<PostOutcome, PostFailure>) => void
}

export class PostOutbox extends Context.Tag("plexichat/PostOutbox")<PostOutbox, {
  /**
   * The same as `post` for callers outside Effect (the WebSocket gateway):
   * no fiber per message, `done` is called once with the outcome.
   */
  readonly submit: (channelId: ChannelId, item: PostItem, done: (exit: Exit.Exit<PostOutcome, PostFailure>) => void) => void
}>() {
  static readonly make = Effect.fnUntraced(function*(options: PostOutboxOptions) {
    const makeClient = yield* ChannelEntity.client
    const run = yield* FiberSet.makeRuntime<never>()
    const queues = new Map<ChannelId, Array<Waiting>>()

    const drain = (channelId: ChannelId): Effect.Effect<void> =>
      Effect.suspend(() => {
        const queue = queues.get(channelId)!
        if (queue.length === 0) {
          queues.delete(channelId)
          return Effect.void
        }
        const batch = queue.splice(0, options.maxBatch)
        return makeClient(channelId).Post({ items: batch.map((w) => w.item) }).pipe(
          Effect.catchAll((error): Effect.Effect<never, PostFailure> =>
            error._tag === "ChannelNotFound" || error._tag === "ChannelUnavailable"
              ? Effect.fail(error)
              : Effect.fail(new ChannelUnavailable({ channelId, reason: `cluster: ${error._tag}` }))
          ),
          Effect.catchAllDefect((defect) =>
            Effect.zipRight(
              Effect.logError("post batch died", defect),
              Effect.fail(new ChannelUnavailable({ channelId, reason: "channel call failed" }))
            )
          ),
          Effect.exit,
          Effect.map((exit) => {
            for (let i = 0; i < batch.length; i++) {
              try {
                batch[i]!.done(Exit.isSuccess(exit) ? Exit.succeed(exit.value[i]!) : Exit.failCause(exit.cause))
              } catch (error) {
                // One caller's broken callback must not strand the rest of the batch or the channel's queue.
                runLog(error)
              }
            }
          }),
          Effect.zipRight(drain(channelId))
        )
      })

    const runLog = (error: unknown) => run(Effect.logError("post callback threw", error))

    const submit = (channelId: ChannelId, item: PostItem, done: Waiting["done"]) => {
      const queue = queues.get(channelId)
      if (queue !== undefined) {
        // Backpressure: a channel that cannot keep up (e.g. during a failover) refuses rather than queueing without end.
        if (queue.length >= options.maxQueue) {
          return done(Exit.fail(new ChannelUnavailable({ channelId, reason: "channel busy; retry with the same clientMsgId" })))
        }
        queue.push({ item, done })
        return
      }
      queues.set(channelId, [{ item, done }])
      run(drain(channelId))
    }

    return PostOutbox.of({
      submit,
    })
  })

  static readonly layer = (options: PostOutboxOptions) => Layer.scoped(PostOutbox, PostOutbox.make(options))
}
