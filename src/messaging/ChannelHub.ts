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
 * seq or fails is reopened from that seq, so the edge sees every message once
 * and in order across failovers.
 *
 * `attach` brings a subscriber from its own `lastSeq` up to the live edge
 * (from the hub's recent ring, else from History) and then starts it following
 * in the same JavaScript turn in which the last catch-up message was handed
 * over, so nothing is missed or repeated in between.
 */
import { Cause, Chunk, Context, Deferred, Effect, Fiber, Layer, Option, Runtime, Schedule, Stream } from "effect"
import { ChannelEntity, type Message } from "../../domain/Channel.ts"
import { type ChannelNotFound, ChannelUnavailable, type NotAMember } from "../../domain/Errors.ts"
import type { ChannelId, UserId } from "../../domain/Ids.ts"

/** Where the hub delivers live messages for a channel (the uWS edge implements it with `publish`). */
export class FanOut extends Context.Tag("plexichat/FanOut")<FanOut, {
  readonly publish: (channelId: ChannelId, messages: ReadonlyArray<Message>) => void
}>() {}

/** A local subscriber being attached. */
export interface Follower {
  /** Catch-up messages for this subscriber only, in order. */
  readonly deliver: (messages: ReadonlyArray<Message>) => void
  /** Start receiving live messages (called synchronously after the last catch-up delivery). */
  readonly follow: () => void
}

export interface HubOptions {
  /** A feed with no chunk for this long (keep-alives included) is reopened. */
  readonly stallMs: number
  readonly ringSize: number
}

interface Feed {
  refs: number
  /** Last seq handed to the fan-out; undefined until the first chunk. */
  lastSeq: number | undefined
  ring: Array<Message>
  readonly ready: Deferred.Deferred<void, ChannelNotFound | ChannelUnavailable>
  readonly listeners: Set<(messages: ReadonlyArray<Message>) => void>
  fiber: Fiber.RuntimeFiber<void> | undefined
}

class FeedGap {
  readonly _tag = "FeedGap"
}
class FeedStalled {
  readonly _tag = "FeedStalled"
}
class FeedEnded {
  readonly _tag = "FeedEnded"
}

export class ChannelHub extends Context.Tag("plexichat/ChannelHub")<ChannelHub, {
  /**
   * Attaches a subscriber that has seen everything up to `lastSeq` (or, when
   * omitted, wants only what comes next). Fails when the channel does not
   * exist or the reader may not read it.
   */
  readonly attach: (
    channelId: ChannelId,
    readerId: UserId,
    lastSeq: number | undefined,
    follower: Follower
  ) => Effect.Effect<{ readonly head: number }, ChannelNotFound | ChannelUnavailable | NotAMember>
  /** Releases one subscriber; the last one closes the channel's feed. */
  readonly detach: (channelId: ChannelId) => void
  /** A live stream of messages after `lastSeq`, for RPC subscribers. */
  readonly stream: (
    channelId: ChannelId,
    readerId: UserId,
    lastSeq: number | undefined
  ) => Stream.Stream<Message, ChannelNotFound | ChannelUnavailable | NotAMember>
  /** Channels with an open feed on this edge. */
  readonly feeds: () => number
  /** Closes every feed (the edge is shutting down). */
  readonly closeAll: Effect.Effect<void>
}>() {
  static readonly make = Effect.fnUntraced(function*(options: HubOptions) {
    const fanOut = yield* FanOut
    const makeClient = yield* ChannelEntity.client
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const feeds = new Map<ChannelId, Feed>()
    const closeAll = Effect.suspend(() => {
      const open = Array.from(feeds.values())
      feeds.clear()
      return Effect.forEach(open, (feed) => feed.fiber ? Fiber.interrupt(feed.fiber) : Effect.void, { discard: true })
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
      for (const listener of feed.listeners) listener(fresh)
      return true
    }

    const run = (channelId: ChannelId, feed: Feed) =>
      Effect.suspend(() =>
        makeClient(channelId).Subscribe(feed.lastSeq === undefined ? {} : { afterSeq: feed.lastSeq }).pipe(
          Stream.timeoutFail(() => new FeedStalled(), options.stallMs),
          Stream.runForEach((chunk) => {
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
        Effect.catchAllCause((cause) =>
          Option.match(Cause.failureOption(cause), {
            onNone: () => Effect.fail(new ChannelUnavailable({ channelId, reason: "feed lost" })),
            onSome: Effect.fail
          })
        ),
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
          const feed: Feed = { refs: 1, lastSeq: undefined, ring: [], ready, listeners: new Set(), fiber: undefined }
          feeds.set(channelId, feed)
          feed.fiber = runFork(run(channelId, feed))
          return feed
        })
      })

    const detach = (channelId: ChannelId) => {
      const feed = feeds.get(channelId)
      if (feed === undefined) return
      if (--feed.refs > 0) return
      feeds.delete(channelId)
      if (feed.fiber !== undefined) runFork(Fiber.interrupt(feed.fiber))
    }

    const catchUp = (
      channelId: ChannelId,
      readerId: UserId,
      feed: Feed,
      lastSeq: number | undefined,
      follower: Follower
    ): Effect.Effect<{ readonly head: number }, NotAMember | ChannelNotFound | ChannelUnavailable> =>
      Effect.gen(function*() {
        let after = lastSeq
        while (true) {
          const head = feed.lastSeq!
          if (after === undefined || after >= head) {
            follower.follow()
            return { head }
          }
          const first = feed.ring[0]
          if (first !== undefined && first.seq <= after + 1) {
            follower.deliver(feed.ring.slice(after + 1 - first.seq))
            follower.follow()
            return { head }
          }
          const page = yield* makeClient(channelId).History({ readerId, afterSeq: after, limit: 1000 }).pipe(
            Effect.catchTags({
              MailboxFull: () => Effect.fail(new ChannelUnavailable({ channelId, reason: "busy" })),
              AlreadyProcessingMessage: () => Effect.fail(new ChannelUnavailable({ channelId, reason: "busy" })),
              PersistenceError: () => Effect.fail(new ChannelUnavailable({ channelId, reason: "cluster storage" }))
            })
          )
          const upToHead = page.filter((m) => m.seq <= feed.lastSeq!)
          if (upToHead.length === 0) {
            // History is behind the feed (should not happen); follow from the ring.
            after = feed.lastSeq!
            continue
          }
          follower.deliver(upToHead)
          after = upToHead[upToHead.length - 1]!.seq
        }
      })

    const attach = (channelId: ChannelId, readerId: UserId, lastSeq: number | undefined, follower: Follower) =>
      Effect.flatMap(acquire(channelId), (feed) =>
        Deferred.await(feed.ready).pipe(
          Effect.zipRight(Effect.suspend(() => {
            // Checks that the reader may read the channel, even when nothing needs catching up.
            return lastSeq === undefined || lastSeq >= feed.lastSeq!
              ? makeClient(channelId).History({ readerId, afterSeq: feed.lastSeq!, limit: 1 }).pipe(
                Effect.catchTags({
                  MailboxFull: () => Effect.fail(new ChannelUnavailable({ channelId, reason: "busy" })),
                  AlreadyProcessingMessage: () => Effect.fail(new ChannelUnavailable({ channelId, reason: "busy" })),
                  PersistenceError: () => Effect.fail(new ChannelUnavailable({ channelId, reason: "cluster storage" }))
                })
              )
              : Effect.void
          })),
          Effect.zipRight(Effect.suspend(() => catchUp(channelId, readerId, feed, lastSeq, follower))),
          Effect.onError(() => Effect.sync(() => detach(channelId)))
        ))

    const stream = (channelId: ChannelId, readerId: UserId, lastSeq: number | undefined) =>
      Stream.asyncScoped<Message, ChannelNotFound | ChannelUnavailable | NotAMember>((emit) =>
        Effect.gen(function*() {
          let listener: ((messages: ReadonlyArray<Message>) => void) | undefined
          yield* Effect.acquireRelease(
            attach(channelId, readerId, lastSeq, {
              deliver: (messages) => void emit.chunk(Chunk.unsafeFromArray(messages)),
              follow: () => {
                const feed = feeds.get(channelId)
                if (feed === undefined) return
                listener = (messages) => void emit.chunk(Chunk.unsafeFromArray(messages))
                feed.listeners.add(listener)
              }
            }),
            () =>
              Effect.sync(() => {
                const feed = feeds.get(channelId)
                if (listener !== undefined) feed?.listeners.delete(listener)
                detach(channelId)
              })
          ).pipe(Effect.catchAll((error) => Effect.sync(() => emit.fail(error))))
        })
      )

    return ChannelHub.of({ attach, detach, stream, feeds: () => feeds.size, closeAll })
  })

  static readonly layer = (options: HubOptions) => Layer.scoped(ChannelHub, ChannelHub.make(options))
}

