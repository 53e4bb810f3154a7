/**
 * The chunks every follower of a Channel feed starts with, whether it follows
 * through a stream or a tap: a header, the backlog after its `afterSeq`, and
 * live chunks without what that backlog already carried.
 */
import { Effect } from "effect"
import type { FeedChunk, Message } from "../../../domain/Channel.ts"
import type { Live } from "./ChannelState.ts"

/** Messages `after < seq <= upTo` of the channel, at most `limit` (from its window or Postgres). */
export type Between<E, R> = (s: Live, after: number, upTo: number, limit: number) => Effect.Effect<ReadonlyArray<Message>, E, R>

/**
 * The first chunk a follower gets: where it stands. An edge (re)opening its
 * feed drops local readers of a private channel who left while it was not
 * listening.
 */
export const header = (s: Live, afterSeq: number | undefined, head: number): FeedChunk => ({
  head: afterSeq === undefined ? head : Math.min(afterSeq, head),
  messages: [],
  ...(s.channel.visibility === "private" ? { members: Array.from(s.members.keys()) } : {})
})

/** The backlog's page after `after`, up to `head`. */
export const backlogPage = <E, R>(s: Live, after: number, head: number, between: Between<E, R>) =>
  Effect.map(between(s, after, head, 1000), (messages): FeedChunk => ({
    head: messages.length > 0 ? messages[messages.length - 1]!.seq : head,
    messages
  }))

/** A live chunk without the messages the backlog (up to `head`) already carried. */
export const afterHead = (chunk: FeedChunk, head: number): FeedChunk =>
  chunk.messages.length > 0 && chunk.messages[0]!.seq <= head
    ? { ...chunk, messages: chunk.messages.filter((m) => m.seq > head) }
    : chunk

