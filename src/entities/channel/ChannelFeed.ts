/**
 * The live feed of one Channel entity: every commit is published as a
 * `FeedChunk` to the edges that follow the channel, plus keep-alives (so a
 * follower notices a dead owner), leave notices of a private channel and the
 * member list of a channel just made private.
 *
 * Two kinds of followers:
 * - streams (`follow`), for edges on other nodes: everything goes through one
 *   PubSub, so they see it in commit order, and one fiber publishes the
 *   keep-alives. Both exist only while a stream follows: the first opens them
 *   and the last one to leave closes them.
 * - taps (`tap`), for this node's own edge: each chunk is handed to the tap's
 *   sink synchronously, in the same commit order, with no PubSub, stream or
 *   keep-alive (the edge runs in this process, and when the entity stops its
 *   taps are ended, so nothing can stall unseen). A chunk through a stream
 *   costs a few hundred µs of fibers and timers; through a tap, a call.
 *
 * An idle channel (no followers) thus holds no buffer, no fiber and no
 * timer; what it commits meanwhile reaches a later follower through its
 * backlog (the window or Postgres).
 */
import { Effect } from "effect"
import type { FeedChunk, Message, TraceContext } from "../../../domain/Channel.ts"
import type { UserId } from "../../../domain/Ids.ts"
import type { FeedSink } from "../../messaging/LocalChannels.ts"
import { monotonicMillis } from "../../messaging/PostDeadline.ts"
import type { Live } from "./ChannelState.ts"
import type { Between } from "./FeedChunks.ts"
import { makeStreams, type StreamOptions } from "./FeedStreams.ts"
import { makeTaps } from "./FeedTaps.ts"

export type FeedOptions = StreamOptions

/** Builds the feed in the entity's scope; `live` says whether keep-alives are due (a loaded, existing channel). */
export const makeFeed = Effect.fnUntraced(function*(options: FeedOptions, live: () => boolean) {
  const taps = makeTaps()
  yield* Effect.addFinalizer(() => Effect.sync(taps.endAll))
  /**
   * The head as followers know it: set after each publish (and on load), so a
   * keep-alive never announces a seq whose chunk is not out yet.
   */
  let publishedHead = 0
  /** When the last chunk went out: a channel that published within the interval needs no keep-alive. */
  let publishedAt = Number.NEGATIVE_INFINITY
  const clock = yield* Effect.clock
  // Keep-alives go through the same PubSub as commits, so they are ordered with them.
  const streams = yield* makeStreams(
    options,
    () =>
      live() && monotonicMillis(clock) - publishedAt >= options.keepAliveMs
        ? { head: publishedHead, messages: [] }
        : undefined,
    yield* Effect.scope
  )

  /**
   * Publishes to the followers, if any (with none, nobody is there to tell),
   * synchronously: the taps get the chunk now, and the streams' sliding
   * PubSub takes it without waiting.
   */
  const publishNow = (make: () => FeedChunk) => {
    if (!streams.active() && taps.size() === 0) return
    const chunk = make()
    taps.publish(chunk)
    if (!streams.active()) return
    // Only streams get keep-alives, so only they need to know when the channel last spoke.
    publishedAt = monotonicMillis(clock)
    Effect.runSync(streams.publish(chunk))
  }
  const publish = (make: () => FeedChunk) => Effect.sync(() => publishNow(make))

  /** Publishes committed messages now; `head` is the channel's head after them. */
  const publishedNow = (head: number, messages: ReadonlyArray<Message>, trace?: TraceContext) => {
    publishNow(() => (trace === undefined ? { head, messages } : { head, messages, trace }))
    publishedHead = head
  }

  /** Tells the edges to stop `userId`'s live feeds (they left or were removed from a private channel, or a guest was removed). */
  const left = (userId: UserId) => publish(() => ({ head: publishedHead, messages: [], left: [userId] }))

  /** Tells the edges who may still read (the channel was just made private): they stop everyone else's feeds. */
  const readers = (members: ReadonlyArray<UserId>) => publish(() => ({ head: publishedHead, messages: [], members }))

  /** A state was loaded: its head is what followers know. */
  const loaded = (head: number) => {
    publishedHead = head
  }

  /** A tap on the feed for this node's edge, for the lifetime of the calling scope (`FeedTaps.ts`). */
  const tap = <E, R>(s: Live, afterSeq: number | undefined, between: Between<E, R>, sink: FeedSink) =>
    taps.open(s, afterSeq, between, sink)

  return {
    /** `publishedNow` as an effect. */
    published: (head: number, messages: ReadonlyArray<Message>, trace?: TraceContext) => Effect.sync(() => publishedNow(head, messages, trace)),
    publishedNow,
    left,
    readers,
    loaded,
    /** A stream follower's feed, for an edge on another node (`FeedStreams.ts`). */
    follow: streams.follow,
    tap,
    followed: () => streams.active() || taps.size() > 0
  } as const
})

export type ChannelFeed = Effect.Effect.Success<ReturnType<typeof makeFeed>>
