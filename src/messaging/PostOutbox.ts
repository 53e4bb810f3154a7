/**
 * Adaptive batching of posts on their way to Channel entities.
 *
 * While a `Post` call to a channel is in flight, further posts for that
 * channel wait here and go out together as the next batch when the call
 * returns. An idle channel therefore sees one-message batches (lowest
 * latency), and a busy one sees batches that grow with the load, because an
 * entity call costs the same CPU whatever its size.
 */
import { Context, Deferred, Effect, Exit, FiberSet, Layer } from "effect"
import { ChannelEntity, type PostItem, type PostOutcome } from "../../domain/Channel.ts"
import { ChannelNotFound, ChannelUnavailable } from "../../domain/Errors.ts"
import type { ChannelId } from "../../domain/Ids.ts"

type PostFailure = ChannelNotFound | ChannelUnavailable

interface Waiting {
  readonly item: PostItem
  readonly done: Deferred.Deferred<PostOutcome, PostFailure>
}

export class PostOutbox extends Context.Tag("plexichat/PostOutbox")<PostOutbox, {
  readonly post: (channelId: ChannelId, item: PostItem) => Effect.Effect<PostOutcome, PostFailure>
}>() {
  static readonly make = Effect.fnUntraced(function*(options: { readonly maxBatch: number }) {
    const makeClient = yield* ChannelEntity.client
    const fibers = yield* FiberSet.make()
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
          Effect.flatMap((exit) =>
            Effect.forEach(batch, (w, i) =>
              Deferred.done(
                w.done,
                Exit.isSuccess(exit) ? Exit.succeed(exit.value[i]!) : Exit.failCause(exit.cause)
              ), { discard: true })
          ),
          Effect.zipRight(drain(channelId))
        )
      })

    return PostOutbox.of({
      post: (channelId, item) =>
        Effect.flatMap(Deferred.make<PostOutcome, PostFailure>(), (done) => {
          const queue = queues.get(channelId)
          if (queue !== undefined) {
            queue.push({ item, done })
            return Deferred.await(done)
          }
          queues.set(channelId, [{ item, done }])
          return Effect.zipRight(FiberSet.run(fibers, drain(channelId)), Deferred.await(done))
        })
    })
  })

  static readonly layer = (options: { readonly maxBatch: number }) => Layer.scoped(PostOutbox, PostOutbox.make(options))
}
