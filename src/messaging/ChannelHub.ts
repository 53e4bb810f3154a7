/**
 * The edge side of live fan-out.
 *
 * For each channel with at least one local subscriber, the hub keeps exactly
 * one `Subscribe` stream open to the Channel entity (directly when it runs on
 * this node, `LocalChannels.ts`; through the cluster wherever else it runs) and hands every message, once, to the `FanOut` (uWS `publish` on a
 * per-channel topic) and to local stream listeners. When the last local
 * subscriber leaves, the stream is closed.
 *
 * The parts, one job each:
 * - `hub/Feed.ts`: one feed's state and the synchronous delivery to subscribers;
 * - `hub/FeedMap.ts`: feeds held by reference in an `RcMap`, opened, reopened on a gap or stall, closed;
 * - `hub/Attach.ts`: the reader check and the catch-up of one subscriber from its `lastSeq`;
 * - `hub/RpcStream.ts`: bounded live streams for typed-RPC subscribers.
 */
import { Context, Effect, Layer, type Stream } from "effect"
import type { Message } from "../../domain/Channel.ts"
import type { ChannelId, UserId } from "../../domain/Ids.ts"
import { type Attached, type Failure, type Follower, makeAttach } from "./hub/Attach.ts"
import { makeFeedMap } from "./hub/FeedMap.ts"
import { makeRpcStream } from "./hub/RpcStream.ts"

export { FanOut } from "./FanOut.ts"
export type { Attached, Follower } from "./hub/Attach.ts"

export interface HubOptions {
  /** A feed with no chunk for this long (keep-alives included) is reopened. */
  readonly stallMs: number
  /** Recent messages kept per feed to catch subscribers up without a History call. */
  readonly ringSize: number
  /** How long an attach may wait for the feed (to open, or to reach the subscriber's lastSeq). */
  readonly attachTimeoutMs: number
  /** Messages an RPC subscriber may fall behind before its stream ends with `ChannelUnavailable`. */
  readonly streamBuffer: number
}

export class ChannelHub extends Context.Tag("plexichat/ChannelHub")<ChannelHub, {
  /**
   * Attaches a subscriber that has seen everything up to `lastSeq` (or, when
   * omitted, wants only what comes next). Fails when the channel does not
   * exist or the reader may not read it. On success the caller owns one
   * reference to the channel's feed and gives it back with `release`; the
   * last one closes the feed. `ip` is the reader's address, for the audit
   * of a refused read.
   */
  readonly attach: (
    channelId: ChannelId,
    readerId: UserId,
    lastSeq: number | undefined,
    follower: Follower,
    ip?: string
  ) => Effect.Effect<Attached, Failure>
  /** A live stream of messages after `lastSeq`, for RPC subscribers. */
  readonly stream: (channelId: ChannelId, readerId: UserId, lastSeq: number | undefined, ip?: string) => Stream.Stream<Message, Failure>
  /** Channels with an open feed on this edge. */
  readonly feeds: () => number
  /** Closes every feed (the edge is shutting down). */
  readonly closeAll: Effect.Effect<void>
}>() {
  static readonly make = Effect.fnUntraced(function*(options: HubOptions) {
    const feeds = yield* makeFeedMap(options)
    const attachFeed = yield* makeAttach(feeds, options)
    const stream = yield* makeRpcStream(attachFeed, options)
    return ChannelHub.of({
      attach: (channelId, readerId, lastSeq, follower, ip) =>
        attachFeed(channelId, readerId, lastSeq, {
          deliver: (messages) => follower.deliver(messages),
          wanted: () => follower.wanted(),
          follow: () => follower.follow()
        }, ip),
      stream,
      feeds: feeds.size,
      closeAll: feeds.closeAll
    })
  })

  static readonly layer = (options: HubOptions) => Layer.scoped(ChannelHub, ChannelHub.make(options))
}
