/**
 * The live feed of one Channel entity: every commit is published as a
 * `FeedChunk` to the edges that follow the channel, plus keep-alives (so a
 * follower notices a dead owner) and leave notices of a private channel.
 * Everything goes through one PubSub, so followers see it in commit order.
 */
import { Chunk, Effect, Option, PubSub, Schedule, Stream } from "effect"
import type { FeedChunk, Message } from "../../../domain/Channel.ts"
import type { UserId } from "../../../domain/Ids.ts"
import type { Live } from "./ChannelState.ts"

export interface FeedOptions {
  /** Chunks buffered per follower before the oldest are dropped (the edge then sees a gap and reopens). */
  readonly bufferSize: number
  /** How often followers get a keep-alive chunk. */
  readonly keepAliveMs: number
}

/** Builds the feed in the entity's scope; `live` says whether keep-alives are due (a loaded, existing channel). */
export const makeFeed = Effect.fnUntraced(function*(options: FeedOptions, live: () => boolean) {
  const pubsub = yield* PubSub.sliding<FeedChunk>(options.bufferSize)
  let followers = 0
  /**
   * The head as followers know it: set after each publish (and on load), so a
   * keep-alive never announces a seq whose chunk is not out yet.
   */
  let publishedHead = 0

  // Keep-alives go through the same PubSub as commits, so they are ordered with them.
  yield* Effect.suspend(() =>
    followers > 0 && live() ? PubSub.publish(pubsub, { head: publishedHead, messages: [] }) : Effect.void
  ).pipe(Effect.repeat(Schedule.spaced(options.keepAliveMs)), Effect.forkScoped)

  /** Publishes committed messages; `head` is the channel's head after them. */
  const published = (head: number, messages: ReadonlyArray<Message>) =>
    Effect.zipRight(PubSub.publish(pubsub, { head, messages }), Effect.sync(() => {
      publishedHead = head
    }))

  /** Tells the edges to stop `userId`'s live feeds (a member left a private channel). */
  const left = (userId: UserId) => PubSub.publish(pubsub, { head: publishedHead, messages: [], left: [userId] })

  /** A state was loaded: its head is what followers know. */
  const loaded = (head: number) => {
    publishedHead = head
  }

  /**
   * A follower's stream: a header chunk (where it stands and, for a private
   * channel, who may read it), the backlog after `afterSeq` up to the head at
   * subscription time (paged with `between`), then every chunk published
   * after that, without the messages the backlog already carried.
   */
  const follow = <E, R>(
    s: Live,
    afterSeq: number | undefined,
    between: (s: Live, after: number, upTo: number, limit: number) => Effect.Effect<ReadonlyArray<Message>, E, R>
  ) =>
    Effect.gen(function*() {
      const subscription = yield* PubSub.subscribe(pubsub)
      followers++
      yield* Effect.addFinalizer(() => Effect.sync(() => followers--))
      // Everything committed up to `head` comes from history; everything after it is already queued in `subscription`.
      const head = s.head
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
    })

  return { published, left, loaded, follow, followed: () => followers > 0 } as const
})

export type ChannelFeed = Effect.Effect.Success<ReturnType<typeof makeFeed>>
