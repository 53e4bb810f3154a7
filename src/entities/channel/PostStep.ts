/**
 * The pure part of a Post: what a batch of items does to a channel's state,
 * before anything is written. Each item is checked for membership (a
 * non-member of a private channel gets `ChannelNotFound`), deduped
 * on (author, clientMsgId) against the state, the keys found in Postgres and
 * the earlier items of the batch, and the new ones get the next seqs.
 *
 * `classify` tells which items need a Postgres lookup (their key may be
 * older than the in-memory dedupe keys); `plan` then gives every item its
 * outcome and the rows to write. Nothing here touches the state.
 */
import type { Message, PostItem, PostOutcome } from "../../../domain/Channel.ts"
import { ChannelNotFound, NotAMember } from "../../../domain/Errors.ts"
import { type ChannelId, messageIdOf } from "../../../domain/Ids.ts"
import { dedupeKey, type Live } from "./ChannelState.ts"

/** An outcome decided before the write: final, or a duplicate of the message with `seq`. */
export type Planned = PostOutcome | { readonly _tag: "DuplicateOf"; readonly seq: number }

export interface Classified {
  /** Outcomes known from the state alone; undefined for the items in `unknown`. */
  readonly outcomes: ReadonlyArray<Planned | undefined>
  /** Indices of member items whose key is not in the in-memory dedupe keys. */
  readonly unknown: ReadonlyArray<number>
  /** True when `unknown` items may still be older posts (their keys must be looked up in Postgres). */
  readonly lookup: boolean
}

export const classify = (s: Live, channelId: ChannelId, items: ReadonlyArray<PostItem>): Classified => {
  const outcomes: Array<Planned | undefined> = Array.from({ length: items.length })
  const unknown: Array<number> = []
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!
    if (!s.members.has(item.authorId)) {
      // A private channel is invisible to non-members: the same answer as a channel that does not exist.
      const error = s.channel.visibility === "private"
        ? new ChannelNotFound({ channelId })
        : new NotAMember({ channelId, userId: item.authorId })
      outcomes[i] = { _tag: "Rejected", error }
      continue
    }
    const seq = s.dedupe.get(dedupeKey(item.authorId, item.clientMsgId))
    if (seq !== undefined) outcomes[i] = { _tag: "DuplicateOf", seq }
    else unknown.push(i)
  }
  return { outcomes, unknown, lookup: unknown.length > 0 && !s.dedupeComplete }
}

export interface Plan {
  readonly outcomes: ReadonlyArray<Planned>
  /** The new messages, seq `head + 1` onwards, in item order. */
  readonly rows: ReadonlyArray<Message>
}

/**
 * Every item's outcome and the rows to write. `found` are the committed
 * messages Postgres holds for keys of `classified.unknown` (empty when no
 * lookup was needed); `now` is the commit time given to the new messages.
 */
export const plan = (
  s: Live,
  channelId: ChannelId,
  items: ReadonlyArray<PostItem>,
  classified: Classified,
  found: ReadonlyArray<Message>,
  now: number
): Plan => {
  const outcomes = classified.outcomes.slice()
  const byKey = new Map(found.map((m) => [dedupeKey(m.authorId, m.clientMsgId), m] as const))
  const pending = new Map<string, number>()
  const rows: Array<Message> = []
  for (const i of classified.unknown) {
    const item = items[i]!
    const key = dedupeKey(item.authorId, item.clientMsgId)
    const original = byKey.get(key)
    if (original !== undefined) {
      outcomes[i] = { _tag: "Accepted", message: original, duplicate: true }
      continue
    }
    const earlier = pending.get(key)
    if (earlier !== undefined) {
      outcomes[i] = { _tag: "DuplicateOf", seq: earlier }
      continue
    }
    const seq = s.head + rows.length + 1
    pending.set(key, seq)
    const message: Message = {
      id: messageIdOf(channelId, seq),
      channelId,
      seq,
      authorId: item.authorId,
      body: item.body,
      clientMsgId: item.clientMsgId,
      createdAt: now
    }
    rows.push(message)
    outcomes[i] = { _tag: "Accepted", message, duplicate: false }
  }
  return { outcomes: outcomes as ReadonlyArray<Planned>, rows }
}
