/**
 * Reopen-on-gap: the fiber of one feed. It keeps one `Subscribe` stream open
 * to the Channel entity and reopens it from `lastSeq` when it stalls (no
 * chunk or keep-alive within `stallMs`, e.g. because the owning node died),
 * skips a seq (the entity's sliding PubSub dropped chunks this edge had not
 * read yet), ends or fails, so that the edge sees every message once and in
 * order across failovers. Only a channel that does not exist stops it.
 */
import { Cause, Chunk, Data, Deferred, Effect, identity, Schedule, Stream } from "effect"
import { ChannelEntity, type FeedChunk } from "../../../domain/Channel.ts"
import { ChannelUnavailable } from "../../../domain/Errors.ts"
import { FanOut } from "../FanOut.ts"
import { HubHooks } from "../HubHooks.ts"
import { countCall, LocalChannels } from "../LocalChannels.ts"
import { deliver, type Feed, retain, revoke } from "./Feed.ts"

class FeedGap extends Data.TaggedError("FeedGap") {}
class FeedStalled extends Data.TaggedError("FeedStalled") {}
class FeedEnded extends Data.TaggedError("FeedEnded") {}

export interface FeedRunnerOptions {
  readonly stallMs: number
  readonly ringSize: number
}

export const makeFeedRunner = Effect.fnUntraced(function*(options: FeedRunnerOptions) {
  const fanOut = yield* FanOut
  const { beforeChunk } = yield* HubHooks
  const makeClient = yield* ChannelEntity.client
  const channels = yield* LocalChannels

  /** Applies one chunk; fails with `FeedGap` when it does not follow on from what the feed delivered. */
  const apply = (feed: Feed, chunk: FeedChunk) => {
    // Revocations first: stopping a reader early is always safe, and a chunk that also shows a gap must
    // not lose them (the reopened feed would not carry them again).
    if (chunk.left !== undefined) revoke(fanOut, feed, chunk.left)
    if (chunk.members !== undefined) retain(fanOut, feed, new Set(chunk.members))
    if (feed.lastSeq === undefined) feed.lastSeq = chunk.head - chunk.messages.length
    if (!deliver(fanOut, options.ringSize, feed, chunk.messages)) return Effect.fail(new FeedGap())
    if (chunk.messages.length === 0 && chunk.head > feed.lastSeq!) return Effect.fail(new FeedGap())
    return Deferred.succeed(feed.ready, void 0)
  }

  /** The entity's stream: directly when it runs on this node (`LocalChannels`), else through the cluster. */
  const open = (feed: Feed) => {
    const local = channels.get(feed.channelId)
    if (local !== undefined) return Stream.unwrap(Effect.as(countCall("local", "Subscribe"), local.subscribe(feed.lastSeq)))
    return Stream.unwrap(Effect.as(
      countCall("cluster", "Subscribe"),
      makeClient(feed.channelId).Subscribe(feed.lastSeq === undefined ? {} : { afterSeq: feed.lastSeq })
    ))
  }

  /** Runs until interrupted, or until the channel turns out not to exist (then `ready` fails). */
  const run = (feed: Feed): Effect.Effect<void> =>
    Effect.suspend(() =>
      open(feed).pipe(
        Stream.timeoutFail(() => new FeedStalled(), options.stallMs),
        beforeChunk === undefined ? identity : Stream.tap((chunk) => beforeChunk(feed.channelId, chunk)),
        Stream.runForEach((chunk) => apply(feed, chunk))
      )
    ).pipe(
      // A feed never ends while it has subscribers: one that completes (its owner stopped and ended the
      // stream), dies or is interrupted from the other side is reopened from `lastSeq`. Only closing the
      // feed (interrupting this fiber) stops it.
      Effect.zipRight(Effect.fail(new FeedEnded())),
      Effect.sandbox,
      Effect.mapError((cause) => {
        const failure = Chunk.head(Chunk.fromIterable(Cause.failures(cause)))
        return failure._tag === "Some"
          ? failure.value
          : new ChannelUnavailable({ channelId: feed.channelId, reason: "feed lost" })
      }),
      Effect.tapError((error) =>
        error._tag === "ChannelNotFound"
          ? Deferred.fail(feed.ready, error)
          : Effect.logDebug("channel feed reopening", { channelId: feed.channelId, reason: error._tag })
      ),
      Effect.retry({
        while: (error) => error._tag !== "ChannelNotFound",
        schedule: Schedule.exponential("50 millis").pipe(Schedule.union(Schedule.spaced("1 second")))
      }),
      Effect.ignore,
      Effect.ensuring(Effect.sync(() => {
        feed.running = false
      }))
    )

  return run
})
