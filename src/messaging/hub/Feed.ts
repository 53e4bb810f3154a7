/**
 * One channel's feed on this edge: where it stands (`lastSeq`), the recent
 * messages it delivered (`ring`), and who is waiting on it. Its functions are
 * synchronous: they run in the feed's fiber between two chunks, so every
 * subscriber sees the same order.
 */
import { Deferred, Effect, Exit, FiberId } from "effect"
import type { FeedChunk, Message } from "../../../domain/Channel.ts"
import type { ChannelNotFound, ChannelUnavailable } from "../../../domain/Errors.ts"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"
import type { FanOut } from "../FanOut.ts"
import { inRemoteSpan } from "../../observability/Tracing.ts"

/** A local listener of an RPC subscriber (WebSocket subscribers are uWS topic members instead). */
export interface Listener {
  readonly readerId: UserId
  readonly push: (messages: ReadonlyArray<Message>) => void
  readonly revoke: () => void
}

/** An attach in progress, so that a member leaving meanwhile is not missed. */
export interface Attempt {
  readonly readerId: UserId
  revoked: boolean
}

export interface Feed {
  readonly channelId: ChannelId
  /** Last seq handed to the fan-out; undefined until the first chunk. */
  lastSeq: number | undefined
  ring: Array<Message>
  /** Completed by the first chunk, or failed when the channel does not exist. */
  ready: Deferred.Deferred<void, ChannelNotFound | ChannelUnavailable>
  /** False once the feed's fiber stopped for good (the channel does not exist): the next attach restarts it. */
  running: boolean
  readonly listeners: Set<Listener>
  /** Attaches waiting for `lastSeq` to reach a seq. */
  readonly waiters: Set<{ readonly seq: number; readonly wake: () => void }>
  readonly attaching: Set<Attempt>
}

export const makeFeed = (channelId: ChannelId): Feed => ({
  channelId,
  lastSeq: undefined,
  ring: [],
  ready: Deferred.unsafeMake(FiberId.none),
  running: true,
  listeners: new Set(),
  waiters: new Set(),
  attaching: new Set()
})

/**
 * Hands the messages after `lastSeq` to the fan-out, the listeners and the
 * waiters. False when they do not follow on from `lastSeq` (a gap).
 */
export const deliver = (fanOut: FanOut["Type"], ringSize: number, feed: Feed, messages: ReadonlyArray<Message>) => {
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
  if (feed.ring.length > 2 * ringSize) feed.ring.splice(0, feed.ring.length - ringSize)
  fanOut.publish(feed.channelId, fresh)
  for (const listener of feed.listeners) listener.push(fresh)
  for (const waiter of feed.waiters) if (waiter.seq <= feed.lastSeq) waiter.wake()
  return true
}

/**
 * Applies one chunk of the entity's feed: revocations first (stopping a
 * reader early is always safe, and a chunk that also shows a gap must not
 * lose them: the reopened feed would not carry them again), then its
 * messages; completes `ready`. False when the chunk does not follow on from
 * what the feed delivered (a gap: the feed reopens from `lastSeq`).
 */
export const applyChunk = (fanOut: FanOut["Type"], ringSize: number, feed: Feed, chunk: FeedChunk) => {
  if (chunk.left !== undefined) revoke(fanOut, feed, chunk.left)
  if (chunk.members !== undefined) retain(fanOut, feed, new Set(chunk.members))
  if (feed.lastSeq === undefined) feed.lastSeq = chunk.head - chunk.messages.length
  const delivered = chunk.trace === undefined
    ? deliver(fanOut, ringSize, feed, chunk.messages)
    : inRemoteSpan(chunk.trace, "plexichat.deliver", { "plexichat.channel_id": feed.channelId }, () =>
      deliver(fanOut, ringSize, feed, chunk.messages))
  if (!delivered) return false
  if (chunk.messages.length === 0 && chunk.head > feed.lastSeq!) return false
  Deferred.unsafeDone(feed.ready, Exit.void)
  return true
}

/** Stops the live feed of readers who left (a private channel), here and in attaches in progress. */
export const revoke = (fanOut: FanOut["Type"], feed: Feed, left: ReadonlyArray<UserId>) => {
  fanOut.revoke(feed.channelId, left)
  for (const listener of feed.listeners) if (left.includes(listener.readerId)) listener.revoke()
  for (const attempt of feed.attaching) if (left.includes(attempt.readerId)) attempt.revoked = true
}

/** Stops the live feed of every reader who is not in `members` (a private channel's readers). */
export const retain = (fanOut: FanOut["Type"], feed: Feed, members: ReadonlySet<UserId>) => {
  fanOut.retain(feed.channelId, members)
  for (const listener of feed.listeners) if (!members.has(listener.readerId)) listener.revoke()
  for (const attempt of feed.attaching) if (!members.has(attempt.readerId)) attempt.revoked = true
}

/** Waits until the feed has delivered `seq`. */
export const reach = (feed: Feed, seq: number) =>
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
