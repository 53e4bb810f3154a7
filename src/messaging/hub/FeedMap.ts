/**
 * Feed lifecycle: one feed per channel with local subscribers, held in an
 * `RcMap` (one reference per subscriber; the last release closes the feed at
 * once, `idleTimeToLive` zero). Each feed runs its `FeedRunner` fiber in the
 * entry's scope, so closing the entry stops it.
 */
import { Deferred, Effect, Fiber, FiberId, RcMap, type Scope } from "effect"
import { ChannelUnavailable } from "../../../domain/Errors.ts"
import type { ChannelId } from "../../../domain/Ids.ts"
import { type Feed, makeFeed } from "./Feed.ts"
import { type FeedRunnerOptions, makeFeedRunner } from "./FeedRunner.ts"
import { makeSerialGet } from "./SerialRcMap.ts"

export interface FeedMap {
  /** A reference to the channel's feed for the lifetime of the scope; fails when the edge is shutting down. */
  readonly get: (channelId: ChannelId) => Effect.Effect<Feed, ChannelUnavailable, Scope.Scope>
  /** Channels with an open feed. */
  readonly size: () => number
  /** Closes every feed, concurrently. */
  readonly closeAll: Effect.Effect<void>
}

export const makeFeedMap = Effect.fnUntraced(function*(options: FeedRunnerOptions) {
  const run = yield* makeFeedRunner(options)
  /** Open feeds, with their fiber and the RcMap entry's scope. */
  const open = new Map<Feed, { readonly fiber: Fiber.RuntimeFiber<void>; readonly scope: Scope.Scope }>()

  // Interruptible: the first start runs inside the entry's `acquireRelease`, whose uninterruptible region a
  // fork inherits; an uninterruptible feed fiber outlived its entry (the entry's close waited on it forever),
  // kept following its channel after the last subscriber left, and reopened its stream over and over while the
  // node shut down.
  const start = (feed: Feed, scope: Scope.Scope) =>
    Effect.map(Effect.forkIn(Effect.interruptible(run(feed)), scope), (fiber) => {
      open.set(feed, { fiber, scope })
    })

  const feeds = yield* RcMap.make({
    lookup: (channelId: ChannelId) =>
      Effect.acquireRelease(
        Effect.flatMap(Effect.scope, (scope) => {
          const feed = makeFeed(channelId)
          return Effect.as(start(feed, scope), feed)
        }),
        (feed) => Effect.sync(() => open.delete(feed))
      )
  })

  /**
   * A feed whose channel did not exist gets a fresh start (the channel may
   * exist by now) rather than a new entry: an `RcMap` entry is only replaced
   * once its last reference is gone.
   */
  const restartIfStopped = (feed: Feed) => {
    if (feed.running) return Effect.void
    const entry = open.get(feed)
    if (entry === undefined) return Effect.void
    feed.running = true
    feed.ready = Deferred.unsafeMake(FiberId.none)
    return start(feed, entry.scope)
  }

  // One get at a time: RcMap's own get can create a second feed of a channel (SerialRcMap.ts).
  const getFeed = yield* makeSerialGet(feeds)
  let closed = false
  const get = (channelId: ChannelId): Effect.Effect<Feed, ChannelUnavailable, Scope.Scope> =>
    Effect.suspend(() =>
      closed
        ? Effect.fail(new ChannelUnavailable({ channelId, reason: "node shutting down" }))
        : Effect.tap(getFeed(channelId), restartIfStopped)
    )

  // Interrupted concurrently first: each feed's close waits for its Subscribe call to be interrupted remotely.
  const closeAll = Effect.suspend(() => {
    closed = true
    return Fiber.interruptAll(Array.from(open.values(), (entry) => entry.fiber))
  })
  yield* Effect.addFinalizer(() => closeAll)

  return { get, size: () => open.size, closeAll } satisfies FeedMap
})
