/**
 * The edge side of live fan-out.
 *
 * For each channel with at least one local subscriber, the hub keeps exactly
 * one `Subscribe` stream open to the Channel entity (wherever in the cluster
 * it runs) and hands every message, once, to the `FanOut` (uWS `publish` on a
 * per-channel topic) and to local stream listeners. When the last local
 * subscriber leaves, the stream is closed.
 *
 * The hub remembers the last seq it delivered. A feed that stalls (no chunk
 * or keep-alive within `stallMs`, e.g. because the owning node died), skips a
 * seq, ends or fails is reopened from that seq, so the edge sees every
 * message once and in order across failovers.
 *
 * `attach` first asks the entity whether the reader may read the channel,
 * then brings the subscriber from its own `lastSeq` up to the feed (from the
 * hub's recent ring, else from History; or, when the subscriber is ahead of
 * this edge's feed, by waiting for the feed to catch up) and starts it
 * following in the same JavaScript turn in which the last catch-up message
 * was handed over, so nothing is missed or repeated in between.
 */
import { Cause, Chunk, Context, Data, Deferred, Effect, Exit, Fiber, identity, Layer, Mailbox, Option, Runtime, Schedule, Stream } from "effect"
import { ChannelEntity, type Message } from "../../domain/Channel.ts"
import { type ChannelNotFound, ChannelUnavailable, NotAMember } from "../../domain/Errors.ts"
import type { ChannelId, UserId } from "../../domain/Ids.ts"
import { channelTransport } from "./ClusterTransport.ts"
import { HubHooks } from "./HubHooks.ts"

/** Where the hub delivers live messages for a channel (the uWS edge implements it with `publish`). */
export class FanOut extends Context.Tag("plexichat/FanOut")<FanOut, {
  readonly publish: (channelId: ChannelId, messages: ReadonlyArray<Message>) => void
  /** Stops the live feed of these users on this channel: they left a private channel. */
  readonly revoke: (channelId: ChannelId, userIds: ReadonlyArray<UserId>) => void
  /** Stops the live feed of everyone on this channel who is not in `members` (a private channel's readers). */
  readonly retain: (channelId: ChannelId, members: ReadonlySet<UserId>) => void
}>() {}

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

type Failure = ChannelNotFound | ChannelUnavailable | NotAMember

/** A local listener of an RPC subscriber (WebSocket subscribers are uWS topic members instead). */
interface Listener {
  readonly readerId: UserId
  readonly push: (messages: ReadonlyArray<Message>) => void
  readonly revoke: () => void
}

interface Feed {
  refs: number
  /** Last seq handed to the fan-out; undefined until the first chunk. */
  lastSeq: number | undefined
  ring: Array<Message>
  readonly ready: Deferred.Deferred<void, ChannelNotFound | ChannelUnavailable>
  readonly listeners: Set<Listener>
  /** Attaches waiting for `lastSeq` to reach a seq. */
  readonly waiters: Set<{ readonly seq: number; readonly wake: () => void }>
  /** Attaches in progress, so that a member leaving meanwhile is not missed. */
  readonly attaching: Set<{ readonly readerId: UserId; revoked: boolean }>
  fiber: Fiber.RuntimeFiber<void> | undefined
}

class FeedGap extends Data.TaggedError("FeedGap") {}
class FeedStalled extends Data.TaggedError("FeedStalled") {}
class FeedEnded extends Data.TaggedError("FeedEnded") {}

export class ChannelHub extends Context.Tag("plexichat/ChannelHub")<ChannelHub, {
  /**
   * Attaches a subscriber that has seen everything up to `lastSeq` (or, when
   * omitted, wants only what comes next). Fails when the channel does not
   * exist or the reader may not read it. On success the caller owns one
   * reference to the channel's feed and gives it back with `release`; the
   * last one closes the feed.
   */
  readonly attach: (
    channelId: ChannelId,
    readerId: UserId,
    lastSeq: number | undefined,
    follower: Follower
  ) => Effect.Effect<Attached, Failure>
  /** A live stream of messages after `lastSeq`, for RPC subscribers. */
  readonly stream: (channelId: ChannelId, readerId: UserId, lastSeq: number | undefined) => Stream.Stream<Message, Failure>
  /** Channels with an open feed on this edge. */
  readonly feeds: () => number
  /** Closes every feed (the edge is shutting down). */
  readonly closeAll: Effect.Effect<void>
}>() {
  static readonly make = Effect.fnUntraced(function*(options: HubOptions) {
    const fanOut = yield* FanOut
    const { beforeChunk } = yield* HubHooks
    const makeClient = yield* ChannelEntity.client
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const feeds = new Map<ChannelId, Feed>()
    const closeAll = Effect.suspend(() => {
      const open = Array.from(feeds.values())
      feeds.clear()
      return Fiber.interruptAll(open.flatMap((feed) => feed.fiber === undefined ? [] : [feed.fiber]))
    })
    yield* Effect.addFinalizer(() => closeAll)

    const deliver = (channelId: ChannelId, feed: Feed, messages: ReadonlyArray<Message>) => {
      let fresh = messages
      if (feed.lastSeq !== undefined) {
        let skip = 0
        while (skip < messages.length && messages[skip]!.seq <= feed.lastSeq) skip++
        fresh = skip === 0 ? messages : messages.slice(skip)
        if (fresh.length > 0 && fresh[0]!.seq !== feed.lastSeq + 1) return false
      }
      if (fresh.length === 0) return true
      feed.lastSeq = fresh[fresh.length - 1]!.seq
      for (const m of fresh) feed.ring.push(m)
      // Trim in steps of `ringSize` so that a busy channel does not shift the array on every batch.
      if (feed.ring.length > 2 * options.ringSize) feed.ring.splice(0, feed.ring.length - options.ringSize)
      fanOut.publish(channelId, fresh)
      for (const listener of feed.listeners) listener.push(fresh)
      for (const waiter of feed.waiters) if (waiter.seq <= feed.lastSeq) waiter.wake()
      return true
    }

    const revoke = (channelId: ChannelId, feed: Feed, left: ReadonlyArray<UserId>) => {
      fanOut.revoke(channelId, left)
      for (const listener of feed.listeners) if (left.includes(listener.readerId)) listener.revoke()
      for (const attempt of feed.attaching) if (left.includes(attempt.readerId)) attempt.revoked = true
    }

    const retain = (channelId: ChannelId, feed: Feed, members: ReadonlySet<UserId>) => {
      fanOut.retain(channelId, members)
      for (const listener of feed.listeners) if (!members.has(listener.readerId)) listener.revoke()
      for (const attempt of feed.attaching) if (!members.has(attempt.readerId)) attempt.revoked = true
    }

    const run = (channelId: ChannelId, feed: Feed) =>
      Effect.suspend(() =>
        makeClient(channelId).Subscribe(feed.lastSeq === undefined ? {} : { afterSeq: feed.lastSeq }).pipe(
          Stream.timeoutFail(() => new FeedStalled(), options.stallMs),
          beforeChunk === undefined ? identity : Stream.tap((chunk) => beforeChunk(channelId, chunk)),
          Stream.runForEach((chunk) => {
            // Revocations first: stopping a reader early is always safe, and a chunk that also shows a gap must
            // not lose them (the reopened feed would not carry them again).
            if (chunk.left !== undefined) revoke(channelId, feed, chunk.left)
            if (chunk.members !== undefined) retain(channelId, feed, new Set(chunk.members))
            if (feed.lastSeq === undefined) feed.lastSeq = chunk.head - chunk.messages.length
            if (!deliver(channelId, feed, chunk.messages)) return Effect.fail(new FeedGap())
            if (chunk.messages.length === 0 && chunk.head > feed.lastSeq!) return Effect.fail(new FeedGap())
            return Deferred.succeed(feed.ready, void 0)
          })
        )
      ).pipe(
        // A feed never ends while it has subscribers: one that completes (its
        // owner stopped and ended the stream), dies or is interrupted from the
        // other side is reopened from `lastSeq`. Only `detach` (interrupting
        // this fiber) stops it.
        Effect.zipRight(Effect.fail(new FeedEnded())),
        Effect.sandbox,
        Effect.mapError((cause) => {
          const failure = Chunk.head(Chunk.fromIterable(Cause.failures(cause)))
          return failure._tag === "Some" ? failure.value : new ChannelUnavailable({ channelId, reason: "feed lost" })
        }),
        Effect.tapError((error) =>
          error._tag === "ChannelNotFound"
            ? Deferred.fail(feed.ready, error)
            : Effect.logDebug("channel feed reopening", { channelId, reason: error._tag })
        ),
        Effect.retry({
          while: (error) => error._tag !== "ChannelNotFound",
          schedule: Schedule.exponential("50 millis").pipe(Schedule.union(Schedule.spaced("1 second")))
        }),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => {
          if (feeds.get(channelId) === feed) feeds.delete(channelId)
        }))
      )

    const acquire = (channelId: ChannelId): Effect.Effect<Feed> =>
      Effect.suspend(() => {
        const existing = feeds.get(channelId)
        if (existing !== undefined) {
          existing.refs++
          return Effect.succeed(existing)
        }
        return Effect.map(Deferred.make<void, ChannelNotFound | ChannelUnavailable>(), (ready) => {
          const feed: Feed = {
            refs: 1,
            lastSeq: undefined,
            ring: [],
            ready,
            listeners: new Set(),
            waiters: new Set(),
            attaching: new Set(),
            fiber: undefined
          }
          feeds.set(channelId, feed)
          feed.fiber = runFork(run(channelId, feed))
          return feed
        })
      })

    /** Gives one reference to `feed` back; the last one closes it. Bound to the feed, not the channel id. */
    const releaseOf = (channelId: ChannelId, feed: Feed) => {
      let released = false
      return () => {
        if (released) return
        released = true
        if (--feed.refs > 0) return
        if (feeds.get(channelId) === feed) feeds.delete(channelId)
        if (feed.fiber !== undefined) runFork(Fiber.interrupt(feed.fiber))
      }
    }

    const timedOut = (channelId: ChannelId, reason: string) => () => new ChannelUnavailable({ channelId, reason })

    /** Waits until the feed has delivered `seq`. */
    const reach = (feed: Feed, seq: number) =>
      Effect.async<void>((resume) => {
        if (feed.lastSeq !== undefined && feed.lastSeq >= seq) return resume(Effect.void)
        const waiter = {
          seq,
          wake: () => {
            feed.waiters.delete(waiter)
            resume(Effect.void)
          }
        }
        feed.waiters.add(waiter)
        return Effect.sync(() => feed.waiters.delete(waiter))
      })

    const catchUp = (channelId: ChannelId, readerId: UserId, feed: Feed, lastSeq: number | undefined, follower: Follower) =>
      Effect.gen(function*() {
        let after = lastSeq
        while (true) {
          if (!follower.wanted()) return yield* new ChannelUnavailable({ channelId, reason: "subscription cancelled" })
          const head = feed.lastSeq!
          if (after === undefined || after === head) {
            follower.follow()
            return { head }
          }
          if (after > head) {
            // The subscriber has seen more than this edge's feed has delivered
            // (it followed another edge): following now would repeat messages.
            yield* reach(feed, after).pipe(
              Effect.timeoutFail({ duration: options.attachTimeoutMs, onTimeout: timedOut(channelId, "channel feed is behind") })
            )
            continue
          }
          const first = feed.ring[0]
          if (first !== undefined && first.seq <= after + 1) {
            follower.deliver(feed.ring.slice(after + 1 - first.seq))
            follower.follow()
            return { head }
          }
          const page = yield* makeClient(channelId).History({ readerId, afterSeq: after, limit: 1000 }).pipe(
            channelTransport(channelId)
          )
          const upToHead = page.filter((m) => m.seq <= feed.lastSeq!)
          if (upToHead.length === 0 || upToHead[0]!.seq !== after + 1) {
            return yield* new ChannelUnavailable({ channelId, reason: "history is behind the live feed; retry" })
          }
          follower.deliver(upToHead)
          after = upToHead[upToHead.length - 1]!.seq
        }
      })

    const attach = (channelId: ChannelId, readerId: UserId, lastSeq: number | undefined, follower: Follower) =>
      // Uninterruptible between taking the reference and installing its release, so no interruption leaks it.
      Effect.uninterruptibleMask((restore) => Effect.flatMap(acquire(channelId), (feed) => {
        const release = releaseOf(channelId, feed)
        const attempt = { readerId, revoked: false }
        feed.attaching.add(attempt)
        return restore(Effect.gen(function*() {
          yield* Deferred.await(feed.ready).pipe(
            Effect.timeoutFail({ duration: options.attachTimeoutMs, onTimeout: timedOut(channelId, "channel feed did not open") })
          )
          // Always asked, whatever `lastSeq` is: a private channel's messages
          // may already sit in this edge's ring for another reader.
          const { head } = yield* makeClient(channelId).CheckReader({ readerId }).pipe(channelTransport(channelId))
          // A lastSeq beyond the channel's head is the client's mistake: treat it as the head.
          const caughtUp = yield* catchUp(channelId, readerId, feed, lastSeq === undefined ? undefined : Math.min(lastSeq, head), follower)
          // The reader left the (private) channel after its check: it does not get to follow it.
          if (attempt.revoked) return yield* new NotAMember({ channelId, userId: readerId })
          return { head: caughtUp.head, release }
        })).pipe(
          Effect.ensuring(Effect.sync(() => feed.attaching.delete(attempt))),
          Effect.onError(() => Effect.sync(release))
        )
      }))

    /** Live messages after `lastSeq`, through `attach`; the consumer may fall `streamBuffer` messages behind. */
    const follow = (channelId: ChannelId, readerId: UserId, lastSeq: number | undefined) =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const mailbox = yield* Mailbox.make<Message, Failure>()
        let listening: { readonly feed: Feed; readonly listener: Listener } | undefined
        let release: (() => void) | undefined
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            listening?.feed.listeners.delete(listening.listener)
            release?.()
          })
        )
        // The attach may be interrupted (the consumer went away); once it succeeded, `release` is recorded in
        // the same uninterruptible step, so the finalizer always gives the reference back.
        const attached = yield* Effect.uninterruptibleMask((restore) => restore(attach(channelId, readerId, lastSeq, {
          wanted: () => true,
          // The catch-up here is short (the pages before `follow` did the rest), so it is not limited.
          deliver: (messages) => void mailbox.unsafeOfferAll(messages),
          follow: () => {
            const feed = feeds.get(channelId)
            if (feed === undefined) return
            const listener: Listener = {
              readerId,
              push: (messages) => {
                if ((mailbox.unsafeSize().pipe(Option.getOrElse(() => 0))) + messages.length > options.streamBuffer) {
                  return void mailbox.unsafeDone(
                    Exit.fail(new ChannelUnavailable({ channelId, reason: "subscriber too slow; resubscribe from the last seq" }))
                  )
                }
                mailbox.unsafeOfferAll(messages)
              },
              revoke: () => mailbox.unsafeDone(Exit.fail(new NotAMember({ channelId, userId: readerId })))
            }
            feed.listeners.add(listener)
            listening = { feed, listener }
          }
        })).pipe(Effect.tap((attached) => Effect.sync(() => {
          release = attached.release
        }))))
        void attached
        return Mailbox.toStream(mailbox)
      }))

    /**
     * For RPC subscribers: the backlog after `lastSeq` in History pages, read
     * as the consumer pulls them, then `follow` from the last one.
     */
    const stream = (channelId: ChannelId, readerId: UserId, lastSeq: number | undefined): Stream.Stream<Message, Failure> => {
      if (lastSeq === undefined) return follow(channelId, readerId, undefined)
      let last = lastSeq
      const pageSize = 1000
      const backlog = Stream.paginateChunkEffect(lastSeq, (after) =>
        makeClient(channelId).History({ readerId, afterSeq: after, limit: pageSize }).pipe(
          channelTransport(channelId),
          Effect.map((page) => {
            if (page.length > 0) last = page[page.length - 1]!.seq
            return [Chunk.unsafeFromArray(page), page.length < pageSize ? Option.none() : Option.some(last)] as const
          })
        ))
      return Stream.concat(backlog, Stream.suspend(() => follow(channelId, readerId, last)))
    }

    return ChannelHub.of({ attach, stream, feeds: () => feeds.size, closeAll })
  })

  static readonly layer = (options: HubOptions) => Layer.scoped(ChannelHub, ChannelHub.make(options))
}
