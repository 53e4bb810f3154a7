/**
 * The stream followers of one Channel feed (edges on other nodes): one
 * PubSub, so they see every chunk in commit order, and one fiber publishing
 * keep-alives (so a follower notices a dead owner). Both exist only while a
 * stream follows: the first follower opens them and the last one to leave
 * closes them.
 */
import { Chunk, Effect, Fiber, Option, PubSub, type Queue, type Scope, Stream } from "effect"
import type { FeedChunk } from "../../../domain/Channel.ts"
import type { Live } from "./ChannelState.ts"
import { afterHead, backlogPage, type Between, header } from "./FeedChunks.ts"

export interface StreamOptions {
  /** Chunks buffered per follower before the oldest are dropped (the edge then sees a gap and reopens). */
  readonly bufferSize: number
  /** How often followers get a keep-alive chunk. */
  readonly keepAliveMs: number
}

/** What a followed feed holds; nothing of it exists while nobody follows. */
interface Followed {
  readonly pubsub: PubSub.PubSub<FeedChunk>
  readonly keepAlive: Fiber.RuntimeFiber<never>
  followers: number
}

/**
 * A header chunk (where the follower stands and, for a private channel, who
 * may read it), the backlog after `afterSeq` up to `head` (paged with
 * `between`), then every chunk of `subscription`, without the messages the
 * backlog already carried.
 */
const followerStream = <E, R>(
  s: Live,
  afterSeq: number | undefined,
  head: number,
  subscription: Queue.Dequeue<FeedChunk>,
  between: Between<E, R>
) => {
  const backlog = afterSeq === undefined || afterSeq >= head
    ? Stream.make(header(s, afterSeq, head))
    : Stream.concat(Stream.make(header(s, afterSeq, head)), Stream.paginateChunkEffect(afterSeq, (after) =>
      Effect.map(backlogPage(s, after, head, between), (chunk) =>
        [Chunk.of(chunk), chunk.head >= head ? Option.none() : Option.some(chunk.head)] as const)))
  return Stream.concat(backlog, Stream.map(Stream.fromQueue(subscription), (chunk) => afterHead(chunk, head)))
}

/**
 * Opens stream followers in `scope` (the entity's). `keepAlive` is the
 * keep-alive chunk due now, if any (none while the channel is not loaded,
 * nor when it published within the interval: any chunk shows it is alive).
 */
export const makeStreams = Effect.fnUntraced(function*(options: StreamOptions, keepAlive: () => FeedChunk | undefined, scope: Scope.Scope) {
  // Followers join and leave one at a time, so that exactly the first opens the PubSub and the last closes it.
  const lock = yield* Effect.makeSemaphore(1)
  let followed: Followed | undefined

  // Keep-alives go through the same PubSub as commits, so they are ordered with them.
  const keepAlives = (pubsub: PubSub.PubSub<FeedChunk>) =>
    Effect.suspend(() => {
      const chunk = keepAlive()
      return chunk === undefined ? Effect.void : PubSub.publish(pubsub, chunk)
    }).pipe(
      Effect.delay(options.keepAliveMs),
      Effect.forever
    )

  /** The PubSub a new follower subscribes to, opened (with its keep-alives) by the first follower. */
  const join = lock.withPermits(1)(Effect.suspend(() => {
    if (followed !== undefined) {
      followed.followers++
      return Effect.succeed(followed.pubsub)
    }
    return Effect.gen(function*() {
      const pubsub = yield* PubSub.sliding<FeedChunk>(options.bufferSize)
      // Interruptible: a follower joins inside `acquireRelease`, whose uninterruptible region a fork inherits.
      const keepAlive = yield* Effect.forkIn(Effect.interruptible(keepAlives(pubsub)), scope)
      followed = { pubsub, keepAlive, followers: 1 }
      return pubsub
    })
  }))

  /**
   * A follower left; the last one closes the feed. The PubSub is dropped, not
   * shut down: a publish that already read it must not be interrupted.
   */
  const leave = lock.withPermits(1)(Effect.suspend(() => {
    const current = followed
    if (current === undefined || --current.followers > 0) return Effect.void
    followed = undefined
    return Fiber.interrupt(current.keepAlive)
  }))

  /**
   * A follower's stream (see `followerStream`). Its subscription exists
   * before `head` is read: everything committed up to `head` comes from
   * history; everything after it is published (after its commit) once the
   * subscription exists, so it is already queued in `subscription` or will be.
   */
  const follow = <E, R>(s: Live, afterSeq: number | undefined, between: Between<E, R>) =>
    Effect.gen(function*() {
      const pubsub = yield* Effect.acquireRelease(join, () => leave)
      const subscription = yield* PubSub.subscribe(pubsub)
      return followerStream(s, afterSeq, s.head, subscription, between)
    })

  /** Publishes a chunk to the stream followers, if any. */
  const publish = (chunk: FeedChunk) => followed === undefined ? Effect.void : PubSub.publish(followed.pubsub, chunk)

  return { follow, publish, active: () => followed !== undefined } as const
})
