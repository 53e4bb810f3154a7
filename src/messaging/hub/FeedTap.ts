/**
 * Following a Channel entity that runs on this node: a tap on its feed
 * (`LocalChannels`), whose chunks the entity hands over synchronously as it
 * publishes them, with no stream, PubSub or keep-alive in between.
 */
import { Data, Deferred, Effect, Exit } from "effect"
import type { FeedChunk } from "../../../domain/Channel.ts"
import { countCall, type LocalChannel } from "../LocalChannels.ts"

/** A chunk did not follow on from what the feed delivered: reopen from `lastSeq`. */
export class FeedGap extends Data.TaggedError("FeedGap") {}
/** The feed ended (its entity stopped): reopen from `lastSeq`. */
export class FeedEnded extends Data.TaggedError("FeedEnded") {}

/**
 * Taps `local` from `afterSeq` and applies each chunk with `apply` (false on
 * a gap); fails with `FeedGap` or `FeedEnded` when the feed must be reopened
 * (it never succeeds). After a gap nothing more is applied: the reopened
 * feed carries it from `lastSeq`.
 */
export const followTap = (local: LocalChannel, afterSeq: number | undefined, apply: (chunk: FeedChunk) => boolean) =>
  Effect.scoped(Effect.gen(function*() {
    const stop = yield* Deferred.make<never, FeedGap | FeedEnded>()
    let stopped = false
    const stopWith = (error: FeedGap | FeedEnded) => {
      stopped = true
      Deferred.unsafeDone(stop, Exit.fail(error))
    }
    yield* countCall("local", "Subscribe")
    yield* local.tap(afterSeq, {
      push: (chunk) => {
        if (!stopped && !apply(chunk)) stopWith(new FeedGap())
      },
      end: () => stopWith(new FeedEnded())
    }).pipe(Effect.catchTag("LocalChannelClosed", () => Effect.fail(new FeedEnded())))
    return yield* Deferred.await(stop)
  }))
