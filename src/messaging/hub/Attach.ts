/**
 * Catch-up and attach: `attach` first asks the entity whether the reader may
 * read the channel, then brings the subscriber from its own `lastSeq` up to
 * the feed (from the feed's recent ring, else from History; or, when the
 * subscriber is ahead of this edge's feed, by waiting for the feed to catch
 * up) and starts it following in the same JavaScript turn in which the last
 * catch-up message was handed over, so nothing is missed or repeated in
 * between.
 */
import { Deferred, Effect, Exit, Runtime, Scope } from "effect"
import { ChannelEntity, type Message } from "../../../domain/Channel.ts"
import { type ChannelNotFound, ChannelUnavailable, NotAMember } from "../../../domain/Errors.ts"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"
import { ipField } from "../../api/ClientAddress.ts"
import { channelTransport } from "../ClusterTransport.ts"
import { LocalChannels } from "../LocalChannels.ts"
import { type Feed, reach } from "./Feed.ts"
import type { FeedMap } from "./FeedMap.ts"

export type Failure = ChannelNotFound | ChannelUnavailable | NotAMember

/** A local subscriber being attached. */
export interface Follower {
  /** Catch-up messages for this subscriber only, in order. */
  readonly deliver: (messages: ReadonlyArray<Message>) => void
  /** Start receiving live messages (called synchronously after the last catch-up delivery). */
  readonly follow: () => void
  /** False once the subscriber is gone (socket closed, unsubscribed): the catch-up stops early. */
  readonly wanted: () => boolean
}

/** A successful attach: where the feed stood, and how to give the subscriber's reference back (idempotent). */
export interface Attached {
  readonly head: number
  readonly release: () => void
}

/** A follower inside the hub, told which feed it follows. */
export interface FeedFollower extends Omit<Follower, "follow"> {
  readonly follow: (feed: Feed) => void
}

export interface AttachOptions {
  readonly attachTimeoutMs: number
}

const historyPage = 1000

/** A History page after `afterSeq`. */
type History = (channelId: ChannelId, readerId: UserId, afterSeq: number) => Effect.Effect<ReadonlyArray<Message>, Failure>

const timedOut = (channelId: ChannelId, reason: string) => () => new ChannelUnavailable({ channelId, reason })

/** Brings a follower from `lastSeq` up to the feed's head and starts it following; answers that head. */
const makeCatchUp = (history: History, attachTimeoutMs: number) =>
  Effect.fnUntraced(function*(feed: Feed, readerId: UserId, lastSeq: number | undefined, follower: FeedFollower) {
    const channelId = feed.channelId
    let after = lastSeq
    while (true) {
      if (!follower.wanted()) return yield* new ChannelUnavailable({ channelId, reason: "subscription cancelled" })
      const head = feed.lastSeq!
      if (after === undefined || after === head) {
        follower.follow(feed)
        return head
      }
      if (after > head) {
        // The subscriber has seen more than this edge's feed has delivered
        // (it followed another edge): following now would repeat messages.
        yield* reach(feed, after).pipe(
          Effect.timeoutFail({ duration: attachTimeoutMs, onTimeout: timedOut(channelId, "channel feed is behind") })
        )
        continue
      }
      const first = feed.ring[0]
      if (first !== undefined && first.seq <= after + 1) {
        follower.deliver(feed.ring.slice(after + 1 - first.seq))
        follower.follow(feed)
        return head
      }
      const page = yield* history(channelId, readerId, after)
      const upToHead = page.filter((m) => m.seq <= feed.lastSeq!)
      if (upToHead.length === 0 || upToHead[0]!.seq !== after + 1) {
        return yield* new ChannelUnavailable({ channelId, reason: "history is behind the live feed; retry" })
      }
      follower.deliver(upToHead)
      after = upToHead[upToHead.length - 1]!.seq
    }
  })

export const makeAttach = Effect.fnUntraced(function*(feeds: FeedMap, options: AttachOptions) {
  const makeClient = yield* ChannelEntity.client
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())
  // Each call of an attach answers within the attach timeout: a subscribe always gets an answer, if only
  // `channel_unavailable` (retry), also while the channel's shard has no live owner.
  const bounded = (channelId: ChannelId, what: string) =>
    Effect.timeoutFail({ duration: options.attachTimeoutMs, onTimeout: timedOut(channelId, `${what} had no answer`) })
  const history = (channelId: ChannelId, readerId: UserId, afterSeq: number) =>
    makeClient(channelId).History({ readerId, afterSeq, limit: historyPage }).pipe(
      channelTransport(channelId),
      bounded(channelId, "the history read")
    )
  const catchUp = makeCatchUp(history, options.attachTimeoutMs)
  const channels = yield* LocalChannels
  const remoteCheck = (channelId: ChannelId, readerId: UserId, ip: string | undefined) =>
    makeClient(channelId).CheckReader({ readerId, ...ipField(ip) }).pipe(channelTransport(channelId))
  /** The entity's reader check: directly when it runs on this node (`LocalChannels`), else through the cluster. */
  const checkReader = (channelId: ChannelId, readerId: UserId, ip: string | undefined) => {
    const local = channels.get(channelId)
    if (local === undefined) return remoteCheck(channelId, readerId, ip)
    return local.checkReader(readerId, ipField(ip).ip).pipe(Effect.catchTag("LocalChannelClosed", () => remoteCheck(channelId, readerId, ip)))
  }

  /** The attach proper, once the reference to `feed` is held. */
  const attachTo = (feed: Feed, readerId: UserId, lastSeq: number | undefined, follower: FeedFollower, ip: string | undefined) => {
    const channelId = feed.channelId
    const attempt = { readerId, revoked: false }
    feed.attaching.add(attempt)
    return Effect.gen(function*() {
      yield* Deferred.await(feed.ready).pipe(
        Effect.timeoutFail({ duration: options.attachTimeoutMs, onTimeout: timedOut(channelId, "channel feed did not open") })
      )
      // Always asked, whatever `lastSeq` is: a private channel's messages
      // may already sit in this edge's ring for another reader.
      const { head } = yield* checkReader(channelId, readerId, ip).pipe(bounded(channelId, "the reader check"))
      // A lastSeq beyond the channel's head is the client's mistake: treat it as the head.
      const caughtUp = yield* catchUp(feed, readerId, lastSeq === undefined ? undefined : Math.min(lastSeq, head), follower)
      // The reader left the (private) channel after its check: it does not get to follow it.
      if (attempt.revoked) return yield* new NotAMember({ channelId, userId: readerId })
      return caughtUp
    }).pipe(Effect.ensuring(Effect.sync(() => feed.attaching.delete(attempt))))
  }

  /**
   * Attaches a follower; on success the caller owns one reference to the
   * channel's feed (a scope holding the `RcMap` entry) and gives it back with
   * `release`. Uninterruptible between taking the reference and handing
   * `release` over (or giving it back on failure), so no interruption leaks it.
   */
  const attach = (
    channelId: ChannelId,
    readerId: UserId,
    lastSeq: number | undefined,
    follower: FeedFollower,
    ip?: string
  ): Effect.Effect<Attached, Failure> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Scope.make(), (scope) => {
        let released = false
        const release = () => {
          if (released) return
          released = true
          runFork(Scope.close(scope, Exit.void))
        }
        return restore(Effect.flatMap(Scope.extend(feeds.get(channelId), scope), (feed) =>
          attachTo(feed, readerId, lastSeq, follower, ip))).pipe(
          Effect.onError(() => Effect.sync(release)),
          Effect.map((head): Attached => ({ head, release }))
        )
      })
    )

  return attach
})
