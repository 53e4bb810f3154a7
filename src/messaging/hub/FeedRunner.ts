/**
 * Reopen-on-gap: the fiber of one feed. It keeps the Channel entity's feed
 * open and reopens it from `lastSeq` when it stalls, skips a seq, ends or
 * fails, so that the edge sees every message once and in order across
 * failovers. Only a channel that does not exist stops it.
 *
 * Two ways to follow:
 * - the entity runs on this node (`LocalChannels`): a tap, whose chunks the
 *   entity hands over synchronously as it publishes them; it ends when the
 *   entity stops (its shard moved, passivation), and the feed reopens;
 * - elsewhere: a `Subscribe` stream through the cluster, reopened when no
 *   chunk or keep-alive came within `stallMs` (the owning node died; before
 *   the first chunk, within the attach timeout), or when
 *   a seq was skipped (the entity's sliding PubSub dropped chunks this edge
 *   had not read yet).
 * A test's `beforeChunk` hook (which may hold a chunk) always takes the stream.
 */
import { Cause, Chunk, Deferred, Effect, Fiber, identity, Schedule, Stream } from "effect"
import { ChannelEntity, type FeedChunk } from "../../../domain/Channel.ts"
import { type ChannelNotFound, ChannelUnavailable } from "../../../domain/Errors.ts"
import { FanOut } from "../FanOut.ts"
import { HubHooks } from "../HubHooks.ts"
import { countCall, LocalChannels } from "../LocalChannels.ts"
import { applyChunk, type Feed } from "./Feed.ts"
import { FeedEnded, FeedGap, followTap } from "./FeedTap.ts"
import { type FeedStalled, makeStallWatch } from "./StallWatch.ts"

export interface FeedRunnerOptions {
  readonly stallMs: number
  /** How long a stream may take to its first chunk: as long as an attach waits for the feed. */
  readonly attachTimeoutMs: number
  readonly ringSize: number
}

const isNotFound = (error: { readonly _tag: string }): error is ChannelNotFound => error._tag === "ChannelNotFound"

/**
 * Follows with `follow` until interrupted, reopening from `lastSeq` whenever
 * it fails, ends or dies; only a channel that does not exist stops it (then
 * `ready` fails).
 */
const reopening = <E extends { readonly _tag: string }>(feed: Feed, follow: Effect.Effect<void, E>): Effect.Effect<void> =>
  follow.pipe(
    // A feed never ends while it has subscribers: one that completes (its owner stopped and ended the
    // stream), dies or is interrupted from the other side is reopened from `lastSeq`. Only closing the
    // feed (interrupting this fiber) stops it.
    Effect.zipRight(Effect.failSync(() => new FeedEnded())),
    Effect.sandbox,
    Effect.mapError((cause) => {
      const failure = Chunk.head(Chunk.fromIterable(Cause.failures(cause)))
      return failure._tag === "Some"
        ? failure.value
        : new ChannelUnavailable({ channelId: feed.channelId, reason: "feed lost" })
    }),
    Effect.tapError((error) =>
      isNotFound(error)
        ? Deferred.fail(feed.ready, error)
        : Effect.logDebug("channel feed reopening", { channelId: feed.channelId, reason: error._tag })
    ),
    Effect.retry({
      while: (error) => error._tag !== "ChannelNotFound",
      // Jittered, so that the feeds of one lost owner (hundreds, after a failover) do not reopen in step.
      schedule: Schedule.exponential("50 millis").pipe(Schedule.union(Schedule.spaced("1 second")), Schedule.jittered)
    }),
    Effect.ignore,
    Effect.ensuring(Effect.sync(() => {
      feed.running = false
    }))
  )

export const makeFeedRunner = Effect.fnUntraced(function*(options: FeedRunnerOptions) {
  const fanOut = yield* FanOut
  const { beforeChunk } = yield* HubHooks
  const makeClient = yield* ChannelEntity.client
  const channels = yield* LocalChannels
  const watchStall = yield* makeStallWatch(options.stallMs, options.attachTimeoutMs)

  const applyNow = (feed: Feed, chunk: FeedChunk) => applyChunk(fanOut, options.ringSize, feed, chunk)

  /**
   * Follows the entity's stream until it fails (it never succeeds): a gap
   * fails it with `FeedGap`, no chunk within `stallMs` with `FeedStalled`.
   */
  const streamed = <E>(feed: Feed, stream: Stream.Stream<FeedChunk, E>) =>
    watchStall((touch) =>
      stream.pipe(
        beforeChunk === undefined ? identity : Stream.tap((chunk) => beforeChunk(feed.channelId, chunk)),
        Stream.runForEach((chunk) =>
          Effect.suspend(() => {
            touch()
            return applyNow(feed, chunk) ? Effect.void : Effect.fail(new FeedGap())
          })
        )
      )
    )

  /**
   * The entity's `Subscribe` stream through the cluster, until the entity
   * turns out to run here (the stream itself may have activated it): then the
   * feed follows it from `lastSeq` as a tap at once, which costs a call per
   * chunk instead of a stream's.
   */
  const subscribe = (feed: Feed): Effect.Effect<void, Effect.Effect.Error<ReturnType<typeof follow>>> =>
    Effect.zipRight(
      countCall("cluster", "Subscribe"),
      // The stream never succeeds: the race is won by it failing, or by the entity registering here. The loser is
      // interrupted in the background: a cluster stream's interruption waits seconds for the entity's answer,
      // and a chunk it still applies meanwhile is one the tap delivered already (skipped by seq).
      Effect.raceWith(
        streamed(feed, makeClient(feed.channelId).Subscribe(feed.lastSeq === undefined ? {} : { afterSeq: feed.lastSeq })),
        channels.registered(feed.channelId),
        {
          onSelfDone: (exit, registered) => Effect.zipRight(Fiber.interruptFork(registered), exit),
          onOtherDone: (_registered, stream) =>
            Effect.zipRight(Fiber.interruptFork(stream), Effect.suspend(() => follow(feed)))
        }
      )
    )

  /** The entity's feed: tapped when it runs on this node (`LocalChannels`), else a stream through the cluster. */
  const follow = (
    feed: Feed
  ): Effect.Effect<void, FeedGap | FeedEnded | FeedStalled | Stream.Stream.Error<ReturnType<ReturnType<typeof makeClient>["Subscribe"]>>> => {
    const local = channels.get(feed.channelId)
    if (local !== undefined && beforeChunk === undefined) return followTap(local, feed.lastSeq, (chunk) => applyNow(feed, chunk))
    if (local !== undefined) return Effect.zipRight(countCall("local", "Subscribe"), streamed(feed, local.subscribe(feed.lastSeq)))
    return subscribe(feed)
  }

  /** Runs until interrupted, or until the channel turns out not to exist (then `ready` fails). */
  const run = (feed: Feed): Effect.Effect<void> => reopening(feed, Effect.suspend(() => follow(feed)))

  return run
})
