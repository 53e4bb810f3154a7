/**
 * The pure Post step (`classify` + `plan`, then `recordCommit`) on random
 * channel states and batches, without a cluster or a database: the history
 * a state was loaded from is a plain array, and the Postgres lookup of older
 * idempotency keys is a filter over it.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import type { Member, Message, PostItem } from "../../domain/Channel.ts"
import { ChannelId, messageIdOf, UserId } from "../../domain/Ids.ts"
import { dedupeKey, fromLoad, type Live, recordCommit } from "../../src/entities/channel/ChannelState.ts"
import { classify, plan, type Planned } from "../../src/entities/channel/PostStep.ts"

const channelId = ChannelId.make("c_prop")
const MEMBERS = ["ann", "ben", "cid"].map((n) => UserId.make(n))
const OUTSIDER = UserId.make("eve")
const AUTHORS = [...MEMBERS, OUTSIDER]

const historyMessage = (seq: number, author: UserId, key: string): Message => ({
  id: messageIdOf(channelId, seq),
  channelId,
  seq,
  authorId: author,
  body: `history ${seq}`,
  clientMsgId: key,
  createdAt: seq
})

/** A history of distinct keys, the state loaded from its newest `loaded` messages, and a batch. */
const caseArb = fc.record({
  history: fc.uniqueArray(fc.record({ author: fc.nat({ max: 2 }), key: fc.nat({ max: 11 }) }), {
    selector: (k) => `${k.author}/${k.key}`,
    maxLength: 20
  }),
  loaded: fc.integer({ min: 1, max: 20 }),
  windowSize: fc.integer({ min: 1, max: 8 }),
  items: fc.array(fc.record({ author: fc.nat({ max: 3 }), key: fc.nat({ max: 11 }) }), { minLength: 1, maxLength: 16 })
})

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never

const build = (c: Case) => {
  const history = c.history.map((h, i) => historyMessage(i + 1, MEMBERS[h.author]!, `k${h.key}`))
  const members: Array<Member> = MEMBERS.map((userId) => ({ userId, role: "member" }))
  const recent = history.slice(Math.max(0, history.length - c.loaded))
  // A state loads its newest messages (their keys are the in-memory dedupe keys); older keys need the lookup.
  const state: Live = fromLoad(
    { epoch: 1, channel: { id: channelId, name: "p", visibility: "public", createdBy: MEMBERS[0]!, createdAt: 0, members } },
    recent,
    c.windowSize
  )
  const items: Array<PostItem> = c.items.map((it, i) => ({ authorId: AUTHORS[it.author]!, clientMsgId: `k${it.key}`, body: `new ${i}` }))
  return { history, state, items }
}

/** The Postgres lookup: committed messages with the keys of the unknown items. */
const lookup = (history: ReadonlyArray<Message>, items: ReadonlyArray<PostItem>, unknown: ReadonlyArray<number>) => {
  const keys = new Set(unknown.map((i) => dedupeKey(items[i]!.authorId, items[i]!.clientMsgId)))
  return history.filter((m) => keys.has(dedupeKey(m.authorId, m.clientMsgId)))
}

const step = (state: Live, history: ReadonlyArray<Message>, items: ReadonlyArray<PostItem>, now: number) => {
  const classified = classify(state, channelId, items)
  return plan(state, channelId, items, classified, classified.lookup ? lookup(history, items, classified.unknown) : [], now)
}

/** The seq an outcome refers to. */
const seqOf = (o: Planned) => o._tag === "DuplicateOf" ? o.seq : o._tag === "Accepted" ? o.message.seq : undefined

describe("Post step", () => {
  it("assigns head+1.. to each new key once, answers retries with the original seq and rejects outsiders", () =>
    fc.assert(fc.property(caseArb, (c) => {
      const { history, items, state } = build(c)
      const head = state.head
      const { outcomes, rows } = step(state, history, items, 1_000)
      expect(outcomes).toHaveLength(items.length)
      // rows: contiguous after the head, distinct keys none of which is committed already
      expect(rows.map((m) => m.seq)).toEqual(rows.map((_, i) => head + i + 1))
      const committed = new Map(history.map((m) => [dedupeKey(m.authorId, m.clientMsgId), m.seq]))
      const rowKeys = rows.map((m) => dedupeKey(m.authorId, m.clientMsgId))
      expect(new Set(rowKeys).size).toBe(rows.length)
      for (const key of rowKeys) expect(committed.has(key)).toBe(false)
      expect(state.head).toBe(head) // planning does not touch the state

      const firstSeq = new Map<string, number>()
      items.forEach((item, i) => {
        const o = outcomes[i]!
        const key = dedupeKey(item.authorId, item.clientMsgId)
        if (item.authorId === OUTSIDER) {
          expect(o).toMatchObject({ _tag: "Rejected", error: { _tag: "NotAMember", userId: OUTSIDER } })
          return
        }
        const original = committed.get(key) ?? firstSeq.get(key)
        if (original !== undefined) {
          // a retry: of a committed message, or of an earlier item of this batch
          expect(seqOf(o)).toBe(original)
          if (o._tag === "Accepted") expect(o.duplicate).toBe(true)
        } else {
          expect(o).toMatchObject({ _tag: "Accepted", duplicate: false, message: { body: item.body, createdAt: 1_000 } })
          firstSeq.set(key, seqOf(o)!)
        }
      })
      // rows are the new items, in item order
      expect(rows.map((m) => m.body)).toEqual(
        items.filter((_, i) => outcomes[i]!._tag === "Accepted" && (outcomes[i] as { duplicate: boolean }).duplicate === false)
          .map((item) => item.body)
      )
    }), { numRuns: 500 }))

  it("after recording the commit, the same batch again writes nothing and gets the same seqs", () =>
    fc.assert(fc.property(caseArb, (c) => {
      const { history, items, state } = build(c)
      const first = step(state, history, items, 1_000)
      recordCommit(state, first.rows, { windowSize: c.windowSize, dedupeMax: 100 })
      // window: contiguous, ending at the head, within its size
      expect(state.head).toBe(history.length + first.rows.length)
      if (state.window.length > 0) {
        expect(state.window.length).toBeLessThanOrEqual(c.windowSize)
        expect(state.window.map((m) => m.seq)).toEqual(state.window.map((_, i) => state.head - state.window.length + i + 1))
      }
      const again = step(state, [...history, ...first.rows], items, 2_000)
      expect(again.rows).toEqual([])
      expect(again.outcomes.map(seqOf)).toEqual(first.outcomes.map(seqOf))
    }), { numRuns: 500 }))
})
