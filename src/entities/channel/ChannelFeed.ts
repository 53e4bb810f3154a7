/**
 * The live feed of one Channel entity: every commit is published as a
 * `FeedChunk` to the edges that follow the channel, plus keep-alives (so a
 * follower notices a dead owner) and leave notices of a private channel.
 *
 * While the channel has followers, everything goes through one PubSub, so
 * followers see it in commit order, and one fiber publishes the keep-alives.
 * Both exist only while someone follows: the first follower opens them and
 * the last one to leave closes them. An idle channel (no followers) thus
 * holds no PubSub buffer, no fiber and no timer; what it commits meanwhile
 * reaches a later follower through its backlog (the window or Postgres).
 */
import { Chunk, Effect, Fiber, Option, PubSub, type Queue, Stream } from "effect"
import type { FeedChunk, Message } from "../../../domain/Channel.ts"
import type { UserId } from "../../../domain/Ids.ts"
import type { Live } from "./ChannelState.ts"

export interface FeedOptions {
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

/** Messages `after < seq <= upTo` of the channel, at most `limit` (from its window or Postgres). */
type Between<E, R> = (s: Live, after: number, upTo: number, limit: number) => Effect.Effect<ReadonlyArray<Message>, E, R>

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
  // An edge (re)opening its feed drops local readers of a private channel who left while it was not listening.
  const header: FeedChunk = {
    head: afterSeq === undefined ? head : Math.min(afterSeq, head),
    messages: [],
    ...(s.channel.visibility === "private" ? { members: Array.from(s.members.keys()) } : {})
  }
  const backlog = afterSeq === undefined || afterSeq >= head
    ? Stream.make(header)
    : Stream.concat(Stream.make(header), Stream.paginateChunkEffect(afterSeq, (after) =>
      between(s, after, head, 1000).pipe(Effect.map((messages) => {
        const last = messages.length > 0 ? messages[messages.length - 1]!.seq : head
        const chunk: FeedChunk = { head: last, messages }
        return [Chunk.of(chunk), last >= head ? Option.none() : Option.some(last)] as const
      }))))
  const liveChunks = Stream.fromQueue(subscription).pipe(
    Stream.map((chunk): FeedChunk =>
      chunk.messages.length > 0 && chunk.messages[0]!.seq <= head
        ? { ...chunk, messages: chunk.messages.filter((m) => m.seq > head) }
        : chunk
    )
  )
  return Stream.concat(backlog, liveChunks)
}

/** Builds the feed in the entity's scope; `live` says whether keep-alives are due (a loaded, existing channel). */
export const makeFeed = Effect.fnUntraced(function*(options: FeedOptions, live: () => boolean) {
  const scope = yield* Effect.scope
  // Followers join and leave one at a time, so that exactly the first opens the PubSub and the last closes it.
  const lock = yield* Effect.makeSemaphore(1)
  let followed: Followed | undefined
  /**
   * The head as followers know it: set after each publish (and on load), so a
   * keep-alive never announces a seq whose chunk is not out yet.
   */
  let publishedHead = 0

  /** Publishes to the followers, if any; with none, nobody is there to tell. */
  const publish = (chunk: () => FeedChunk) =>
    Effect.suspend(() => followed === undefined ? Effect.void : PubSub.publish(followed.pubsub, chunk()))

  // Keep-alives go through the same PubSub as commits, so they are ordered with them.
  const keepAlives = (pubsub: PubSub.PubSub<FeedChunk>) =>
    Effect.suspend(() => live() ? PubSub.publish(pubsub, { head: publishedHead, messages: [] }) : Effect.void).pipe(
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

  /** Publishes committed messages; `head` is the channel's head after them. */
  const published = (head: number, messages: ReadonlyArray<Message>) =>
    Effect.zipRight(publish(() => ({ head, messages })), Effect.sync(() => {
      publishedHead = head
    }))

  /** Tells the edges to stop `userId`'s live feeds (a member left a private channel). */
  const left = (userId: UserId) => publish(() => ({ head: publishedHead, messages: [], left: [userId] }))

  /** A state was loaded: its head is what followers know. */
  const loaded = (head: number) => {
    publishedHead = head
  }

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

  return { published, left, loaded, follow, followed: () => followed !== undefined } as const
})

export type ChannelFeed = Effect.Effect.Success<ReturnType<typeof makeFeed>>
