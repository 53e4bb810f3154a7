/**
 * Ordering invariants of Channel entities under random concurrent schedules:
 * several authors post batches concurrently to a few channels, reusing
 * clientMsgIds (retries, inside a batch and across concurrent batches), with
 * an outsider who is not a member. For every channel:
 *
 * - seq is gap-free and strictly increasing, 1..n;
 * - every distinct (author, clientMsgId) of a member appears exactly once in history;
 * - every retry returns the same seq (and message) as the original, marked duplicate;
 * - the outsider's posts are rejected and never stored.
 */
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, FastCheck as fc } from "effect"
import type { Message, PostItem } from "../../domain/Channel.ts"
import { channelClient, freshChannelId, item, storedMessages, user } from "../fixtures/ChannelHelpers.ts"
import { inMemoryCluster } from "../fixtures/InMemoryCluster.ts"

const AUTHORS = ["ann", "ben", "cid", "dot"] as const
const OUTSIDER = "eve"

interface Op {
  readonly author: number // AUTHORS index, or AUTHORS.length for the outsider
  readonly key: number // clientMsgId pool index: small, so that retries are common
}

const scheduleArb = fc.record({
  channels: fc.integer({ min: 1, max: 3 }),
  // waves run one after the other; the batches of a wave run concurrently
  waves: fc.array(
    fc.array(
      fc.record({
        channel: fc.nat({ max: 2 }),
        ops: fc.array(
          fc.record({ author: fc.nat({ max: AUTHORS.length }), key: fc.nat({ max: 7 }) }),
          { minLength: 1, maxLength: 6 }
        )
      }),
      { minLength: 1, maxLength: 6 }
    ),
    { minLength: 1, maxLength: 4 }
  )
})

const authorOf = (op: Op) => op.author < AUTHORS.length ? AUTHORS[op.author]! : OUTSIDER

layer(inMemoryCluster(), { excludeTestServices: true, timeout: "60 seconds" })("Channel ordering", (it) => {
  it.effect.prop(
    "per-channel seq is gap-free, each (author, clientMsgId) is stored once, retries get the original seq",
    { schedule: scheduleArb },
    ({ schedule }) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const client = yield* channelClient
        const channelIds = Array.from({ length: schedule.channels }, () => freshChannelId("prop"))
        for (const channelId of channelIds) {
          yield* client(channelId).Create({ name: "prop", visibility: "public", ownerId: user(AUTHORS[0]) })
          for (const author of AUTHORS.slice(1)) yield* client(channelId).Join({ userId: user(author) })
        }

        // every submission, with what came back for it
        const results: Array<{ channel: number; item: PostItem; outcome: { message: Message; duplicate: boolean } | "Rejected" }> = []
        let submitted = 0
        for (const wave of schedule.waves) {
          yield* Effect.forEach(wave, (batch) => {
            const channel = batch.channel % schedule.channels
            const items = batch.ops.map((op) => item(authorOf(op), `k${op.key}`, `submission ${submitted++}`))
            return client(channelIds[channel]!).Post({ items }).pipe(
              Effect.timeout("10 seconds"),
              Effect.tap((outcomes) =>
                Effect.sync(() => {
                  expect(outcomes.length).toBe(items.length)
                  outcomes.forEach((o, i) =>
                    results.push({ channel, item: items[i]!, outcome: o._tag === "Accepted" ? o : "Rejected" })
                  )
                })
              )
            )
          }, { concurrency: "unbounded", discard: true })
        }

        for (let c = 0; c < schedule.channels; c++) {
          const mine = results.filter((r) => r.channel === c)
          const history = yield* client(channelIds[c]!).History({ readerId: user(AUTHORS[0]), afterSeq: 0, limit: 1000 })
          // gap-free and strictly increasing
          expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i + 1))
          // history is what Postgres holds
          const stored = yield* storedMessages(sql, channelIds[c]!)
          expect(stored.map((m) => [m.seq, m.authorId, m.clientMsgId, m.body])).toEqual(
            history.map((m) => [m.seq, m.authorId, m.clientMsgId, m.body])
          )

          // the outsider is always rejected and never stored
          for (const r of mine) expect(r.outcome === "Rejected").toBe(r.item.authorId === OUTSIDER)
          expect(history.some((m) => m.authorId === OUTSIDER)).toBe(false)

          // each distinct member key is stored exactly once, and all its outcomes agree
          const byKey = new Map<string, Array<{ message: Message; duplicate: boolean }>>()
          for (const r of mine) {
            if (r.outcome === "Rejected") continue
            const key = `${r.item.authorId}/${r.item.clientMsgId}`
            byKey.set(key, [...(byKey.get(key) ?? []), r.outcome])
          }
          expect(history.length).toBe(byKey.size)
          const historyKeys = history.map((m) => `${m.authorId}/${m.clientMsgId}`)
          expect(new Set(historyKeys).size).toBe(historyKeys.length)
          for (const [key, outcomes] of byKey) {
            const originals = outcomes.filter((o) => !o.duplicate)
            expect(originals.length, `one original for ${key}`).toBe(1)
            const original = originals[0]!.message
            for (const o of outcomes) expect(o.message).toEqual(original)
            expect(history[original.seq - 1]).toEqual(original)
          }
        }
      }),
    { timeout: 60_000, fastCheck: { numRuns: 25 } }
  )
})
