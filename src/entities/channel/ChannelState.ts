/**
 * The in-memory state of one Channel entity incarnation, and the pure
 * operations on it: building it from what a load read, recording committed
 * messages, and reading recent messages from its window.
 */
import type { Channel, Member, Message } from "../../../domain/Channel.ts"
import type { UserId } from "../../../domain/Ids.ts"
import type { ClaimedChannel } from "../../messaging/MessageStore.ts"

/** Sizes of the state kept in memory. */
export interface StateLimits {
  /** Recent messages kept to serve History and catch-ups without a query. */
  readonly windowSize: number
  /** Idempotency keys kept at most. */
  readonly dedupeMax: number
}

export interface Live {
  readonly _tag: "Live"
  channel: Channel
  /** The fencing token this incarnation holds: every write carries it (see MessageStore.claimChannel). */
  readonly epoch: number
  members: Map<UserId, Member>
  /** seq of the last committed message. */
  head: number
  /** Recent messages, ascending, contiguous, ending at `head`. */
  window: Array<Message>
  /** (author, clientMsgId) -> seq for recent messages. */
  dedupe: Map<string, number>
  /** True when `dedupe` holds every message of the channel. */
  dedupeComplete: boolean
}

export interface Absent {
  readonly _tag: "Absent"
}

export type Loaded = Live | Absent

/** What an entity keeps between requests: a live channel, or nothing (see ChannelStateCell.ts on why not `Absent`). */
export type State = Live | { readonly _tag: "Unloaded" }

export const dedupeKey = (authorId: string, clientMsgId: string) => `${authorId}\u0000${clientMsgId}`

/** The state of a channel as a load found it: `recent` are its newest messages, ascending. */
export const fromLoad = (claimed: ClaimedChannel, recent: ReadonlyArray<Message>, windowSize: number): Live => {
  // seqs are gap-free, so the newest message gives the head
  const head = recent.length > 0 ? recent[recent.length - 1]!.seq : 0
  const dedupe = new Map<string, number>()
  for (const m of recent) dedupe.set(dedupeKey(m.authorId, m.clientMsgId), m.seq)
  return {
    _tag: "Live",
    channel: claimed.channel,
    epoch: claimed.epoch,
    members: new Map(claimed.channel.members.map((m) => [m.userId, m])),
    head,
    window: recent.slice(-windowSize),
    dedupe,
    dedupeComplete: recent.length === head
  }
}

/** The state of a channel just created (by this incarnation, holding `epoch`). */
export const created = (channel: Channel, epoch: number): Live => ({
  _tag: "Live",
  channel,
  epoch,
  members: new Map(channel.members.map((m) => [m.userId, m])),
  head: 0,
  window: [],
  dedupe: new Map(),
  dedupeComplete: true
})

/** Records committed messages (contiguous, starting at `head + 1`): head, window and dedupe keys move on. */
export const recordCommit = (s: Live, messages: ReadonlyArray<Message>, limits: StateLimits): void => {
  for (const m of messages) {
    s.window.push(m)
    s.dedupe.set(dedupeKey(m.authorId, m.clientMsgId), m.seq)
  }
  s.head += messages.length
  if (s.window.length > limits.windowSize) s.window.splice(0, s.window.length - limits.windowSize)
  if (s.dedupe.size > limits.dedupeMax) {
    const it = s.dedupe.keys()
    for (let n = s.dedupe.size - limits.dedupeMax; n > 0; n--) s.dedupe.delete(it.next().value!)
    s.dedupeComplete = false
  }
}

/** Messages `afterSeq < seq <= upTo` (at most `limit`) when the window covers them, else undefined. */
export const fromWindow = (s: Live, afterSeq: number, upTo: number, limit: number): ReadonlyArray<Message> | undefined => {
  const first = s.window[0]
  if (first === undefined || first.seq > afterSeq + 1) return undefined
  const from = afterSeq + 1 - first.seq
  return s.window.slice(from, Math.min(from + limit, from + (upTo - afterSeq)))
}

/** The channel as callers see it. */
export const publicView = (s: Live): Channel => ({ ...s.channel, members: Array.from(s.members.values()) })
