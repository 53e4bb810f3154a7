/**
 * One member's bad post must not fail everyone's. Postgres refusing one row
 * of a Post batch (here: a CHECK constraint added to the test database, a
 * real refusal by the server) rejects that item with `InvalidRequest`; the
 * other items of the batch, and other channels' posts in the same group
 * commit, are committed, gap-free.
 */
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { accepted, channelClient, freshChannelId, item, storedMessages, user } from "../fixtures/ChannelHelpers.ts"
import { inMemoryCluster } from "../fixtures/InMemoryCluster.ts"

const POISON = "poison"

const setUp = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE plexi_messages DROP CONSTRAINT IF EXISTS test_refuses_poison`
  yield* sql.unsafe(`ALTER TABLE plexi_messages ADD CONSTRAINT test_refuses_poison CHECK (body <> '${POISON}')`)
  const client = yield* channelClient
  const channelId = freshChannelId()
  const channel = client(channelId)
  yield* channel.Create({ name: "mixed", visibility: "public", ownerId: user("victim") })
  yield* channel.Join({ userId: user("attacker") })
  return { sql, channelId, channel, client }
})

layer(inMemoryCluster({ flushers: 1 }), { excludeTestServices: true, timeout: "60 seconds" })("refused rows", (it) => {
  describe("a row Postgres refuses inside a Post batch", () => {
    it.effect("fails only its own item (InvalidRequest); the others commit gap-free and retries still dedupe", () =>
      Effect.gen(function*() {
        const { channel, channelId, sql } = yield* setUp
        const outcomes = yield* channel.Post({
          items: [
            item("victim", "v1"),
            item("attacker", "a1", POISON),
            item("victim", "v2"),
            item("victim", "v1", "retry of v1"),
            item("attacker", "a2", POISON)
          ]
        })
        expect(outcomes.map((o) => o._tag)).toEqual(["Accepted", "Rejected", "Accepted", "Accepted", "Rejected"])
        expect(outcomes[1]).toMatchObject({ _tag: "Rejected", error: { _tag: "InvalidRequest" } })
        expect(outcomes[4]).toMatchObject({ _tag: "Rejected", error: { _tag: "InvalidRequest" } })
        expect(accepted(outcomes[0]!).message.seq).toBe(1)
        expect(accepted(outcomes[2]!).message.seq).toBe(2)
        expect(accepted(outcomes[3]!)).toMatchObject({ duplicate: true, message: { seq: 1, body: "body of v1" } })
        expect((yield* storedMessages(sql, channelId)).map((m) => [m.seq, m.clientMsgId])).toEqual([[1, "v1"], [2, "v2"]])

        // the state is intact: the next post continues the sequence, and a lone bad post is rejected on its own
        const [alone] = yield* channel.Post({ items: [item("attacker", "a3", POISON)] })
        expect(alone).toMatchObject({ _tag: "Rejected", error: { _tag: "InvalidRequest" } })
        const [next] = yield* channel.Post({ items: [item("victim", "v3")] })
        expect(accepted(next!).message.seq).toBe(3)
      }))

    it.effect("a flood of bad posts next to a victim's posts in the same channel fails none of the victim's", () =>
      Effect.gen(function*() {
        const { channel, channelId, sql } = yield* setUp
        const results = yield* Effect.forEach(
          Array.from({ length: 30 }, (_, i) => i),
          (i) =>
            channel.Post({ items: [item("attacker", `bad-${i}`, POISON), item("victim", `ok-${i}`), item("attacker", `bad2-${i}`, POISON)] }),
          { concurrency: "unbounded" }
        )
        for (const outcomes of results) expect(outcomes.map((o) => o._tag)).toEqual(["Rejected", "Accepted", "Rejected"])
        const stored = yield* storedMessages(sql, channelId)
        expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
        expect(new Set(stored.map((m) => m.clientMsgId)).size).toBe(30)
      }))
  })
})
