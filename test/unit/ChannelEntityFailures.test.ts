/**
 * The documented failure paths of the Channel entity:
 *
 * - a defect in a forked handler (History, CheckReader, Subscribe) answers
 *   ChannelUnavailable and *requests* a rebuild, which the next serial
 *   request performs (forked handlers never reload the state themselves);
 * - a failed read (`SqlError`: here the messages table is really missing for
 *   a moment) leaves the state as it is;
 * - a failed write drops the state, and the retry with the same clientMsgId
 *   is safe: a write that did not commit is committed once, a write that
 *   committed but whose answer was lost returns the original message.
 */
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Stream } from "effect"
import { accepted, channelClient, freshChannelId, item, storedMessages, user } from "../fixtures/ChannelHelpers.ts"
import { inMemoryCluster, makeStoreCalls } from "../fixtures/InMemoryCluster.ts"
import { makeInsertFaults } from "../fixtures/InsertFaults.ts"

const alice = user("alice")
const calls = makeStoreCalls()
/** The next forked handler of this kind dies. */
let crashNext: "History" | "CheckReader" | "Subscribe" | undefined
const { faults, afterInsert } = makeInsertFaults()

const stack = inMemoryCluster({
  // a tiny window, so that History reads Postgres
  settings: { windowSize: 2 },
  calls,
  hooks: {
    beforePost: () => Effect.void,
    beforeRead: (rpc) =>
      Effect.suspend(() => {
        if (crashNext !== rpc) return Effect.void
        crashNext = undefined
        return Effect.die(new Error(`injected ${rpc} crash`))
      })
  },
  afterInsert
})

const channelWithMessages = (n: number) =>
  Effect.gen(function*() {
    const client = yield* channelClient
    const channelId = freshChannelId()
    const channel = client(channelId)
    yield* channel.Create({ name: "failures", visibility: "public", ownerId: alice })
    yield* channel.Post({ items: Array.from({ length: n }, (_, i) => item("alice", `m${i + 1}`)) })
    return { channel, channelId }
  })

layer(stack, { excludeTestServices: true, timeout: "60 seconds" })("ChannelEntity failure paths", (it) => {
  describe("forked-handler crash", () => {
    for (const rpc of ["History", "CheckReader", "Subscribe"] as const) {
      it.effect(`a crash in ${rpc} answers ChannelUnavailable; the next serial request rebuilds the state`, () =>
        Effect.gen(function*() {
          const { channel } = yield* channelWithMessages(3)
          const loads = calls.loadChannel
          crashNext = rpc
          const call = rpc === "History"
            ? Effect.asVoid(channel.History({ readerId: alice, afterSeq: 0, limit: 10 }))
            : rpc === "CheckReader"
            ? Effect.asVoid(channel.CheckReader({ readerId: alice }))
            : Stream.runDrain(channel.Subscribe({ afterSeq: 0 }))
          const error = yield* Effect.flip(call)
          expect(error).toMatchObject({ _tag: "ChannelUnavailable", reason: "restarted after a crash" })
          // a forked handler does not reload: the state is still served as it was
          expect((yield* channel.CheckReader({ readerId: alice })).head).toBe(3)
          expect(calls.loadChannel).toBe(loads)
          // the next serial request performs the requested rebuild, once
          const [next] = yield* channel.Post({ items: [item("alice", "after-crash")] })
          expect(calls.loadChannel).toBe(loads + 1)
          expect(accepted(next!).message.seq).toBe(4)
          yield* channel.Info({})
          expect(calls.loadChannel).toBe(loads + 1)
        }))
    }
  })

  describe("SqlError", () => {
    it.effect("a failed read answers ChannelUnavailable and leaves the state as it is", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { channel } = yield* channelWithMessages(5)
        const loads = calls.loadChannel
        yield* sql`ALTER TABLE plexi_messages RENAME TO plexi_messages_away`
        // seq 1.. is older than the 2-message window: History must read Postgres, which fails
        const failed = yield* Effect.flip(channel.History({ readerId: alice, afterSeq: 0, limit: 10 })).pipe(
          Effect.ensuring(Effect.orDie(sql`ALTER TABLE plexi_messages_away RENAME TO plexi_messages`))
        )
        expect(failed).toMatchObject({ _tag: "ChannelUnavailable", reason: "store unavailable" })
        // the window still answers, and the state was not reloaded
        expect((yield* channel.History({ readerId: alice, afterSeq: 3, limit: 10 })).map((m) => m.seq)).toEqual([4, 5])
        const [next] = yield* channel.Post({ items: [item("alice", "m6")] })
        expect(accepted(next!).message.seq).toBe(6)
        expect(calls.loadChannel).toBe(loads)
        expect((yield* channel.History({ readerId: alice, afterSeq: 0, limit: 10 })).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6])
      }))

    it.effect("a write that failed drops the state; its retry with the same clientMsgId commits it once", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { channel, channelId } = yield* channelWithMessages(2)
        const loads = calls.loadChannel
        yield* sql`ALTER TABLE plexi_messages RENAME TO plexi_messages_away`
        const failed = yield* Effect.flip(channel.Post({ items: [item("alice", "x")] })).pipe(
          Effect.ensuring(Effect.orDie(sql`ALTER TABLE plexi_messages_away RENAME TO plexi_messages`))
        )
        expect(failed).toMatchObject({ _tag: "ChannelUnavailable", reason: expect.stringMatching(/retry with the same clientMsgId is safe/) })
        const [retry] = yield* channel.Post({ items: [item("alice", "x")] })
        expect(calls.loadChannel).toBe(loads + 1) // the state was dropped and rebuilt
        expect(accepted(retry!)).toMatchObject({ duplicate: false, message: { seq: 3, clientMsgId: "x" } })
        expect((yield* storedMessages(sql, channelId)).map((m) => m.clientMsgId)).toEqual(["m1", "m2", "x"])
      }))

    it.effect("a crash during a write that committed drops the state: the next Post neither reuses the seq nor loses it", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { channel, channelId } = yield* channelWithMessages(2)
        const loads = calls.loadChannel
        faults.crashAfterNextInsert = true
        const failed = yield* Effect.flip(channel.Post({ items: [item("alice", "c")] }))
        expect(failed).toMatchObject({ _tag: "ChannelUnavailable", reason: "restarted after a crash" })
        const outcomes = yield* channel.Post({ items: [item("alice", "c"), item("alice", "d")] })
        expect(calls.loadChannel).toBe(loads + 1)
        expect(outcomes.map((o) => [accepted(o).message.seq, accepted(o).duplicate])).toEqual([[3, true], [4, false]])
        expect((yield* storedMessages(sql, channelId)).map((m) => m.clientMsgId)).toEqual(["m1", "m2", "c", "d"])
      }))

    it.effect("a write that committed but whose answer was lost: the retry returns the original message", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { channel, channelId } = yield* channelWithMessages(2)
        faults.loseNextAnswer = true
        const failed = yield* Effect.flip(channel.Post({ items: [item("alice", "y", "first body")] }))
        expect(failed._tag).toBe("ChannelUnavailable")
        expect((yield* storedMessages(sql, channelId)).map((m) => m.seq)).toEqual([1, 2, 3])
        // not a second seq 3 (stale head), not a second copy: the original
        const [retry] = yield* channel.Post({ items: [item("alice", "y", "retried body")] })
        expect(accepted(retry!)).toMatchObject({ duplicate: true, message: { seq: 3, body: "first body" } })
        const [next] = yield* channel.Post({ items: [item("alice", "z")] })
        expect(accepted(next!).message.seq).toBe(4)
        expect((yield* storedMessages(sql, channelId)).map((m) => m.clientMsgId)).toEqual(["m1", "m2", "y", "z"])
      }))
  })
})
