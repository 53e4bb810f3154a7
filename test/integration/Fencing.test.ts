/**
 * Fencing of a stale channel owner on real Postgres.
 *
 * Two incarnations of the same channel run at once, as when a stalled or
 * partitioned node wakes up after another node took its channels: two entity
 * stacks (each its own runner, connection pool and group-commit writer) over
 * one database. The newer incarnation's load claims the channel; every write
 * of the older one after that is refused (ChannelUnavailable, state dropped)
 * and nothing is duplicated or lost. A SQL-level test shows the claim and an
 * in-flight INSERT cannot interleave (the row lock and READ COMMITTED
 * re-check).
 *
 * With shard holders (as on a cluster: each stack is a named runner, and the
 * test moves the channel's shard lock and record from one to the other, as a
 * takeover of a stalled runner does), the former holder can neither claim the
 * channel back nor answer from an `Absent` it found earlier.
 */
import { EntityId, type ShardId, Sharding } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Option, Redacted, Schedule } from "effect"
import type { Message } from "../../domain/Channel.ts"
import { messageIdOf, UserId } from "../../domain/Ids.ts"
import { MessageStore } from "../../src/messaging/MessageStore.ts"
import { layerPostgres } from "../../runtime/sql/Database.ts"
import { accepted, channelClient, freshChannelId, item, storedMessages, user } from "../fixtures/ChannelHelpers.ts"
import { entityStack, migrated } from "../fixtures/InMemoryCluster.ts"
import { moveShard, type RunnerLocks, runnerLocks } from "../fixtures/ShardLocks.ts"
import { realPostgres as testDatabase } from "../fixtures/TestDatabase.ts"

/** One node's entity stack over `url`, alive for the rest of the test's scope (memory runner storage: each owns every shard). */
const node = (url: string) => Layer.build(entityStack(layerPostgres(Redacted.make(url), { maxConnections: 4 })))

type NodeContext = Context.Context<Effect.Effect.Context<typeof channelClient> | Sharding.Sharding | SqlClient.SqlClient>

/** Two runners over `url`, each an entity stack whose claims need the shard's record to name it; no shard is theirs yet. */
const twoRunners = (url: string) =>
  Effect.gen(function*() {
    const runner = (host: string) =>
      Effect.gen(function*() {
        const locks = yield* runnerLocks(url, host)
        const node: NodeContext = yield* Layer.build(entityStack(layerPostgres(Redacted.make(url), { maxConnections: 4 }), { holder: locks.name }))
        const channel = (channelId: string) => Effect.provide(Effect.map(channelClient, (client) => client(channelId)), node)
        return { locks, node, channel }
      })
    return { a: yield* runner("runner-a"), b: yield* runner("runner-b") }
  })

/** The distinct shards of `channelIds`. */
const shardsOf = (node: NodeContext, channelIds: ReadonlyArray<string>): ReadonlyArray<ShardId.ShardId> => {
  const sharding = Context.get(node, Sharding.Sharding)
  const shards = new Map(channelIds.map((id) => sharding.getShardId(EntityId.make(id), "default")).map((s) => [s.toString(), s]))
  return Array.from(shards.values())
}

const moveShards = (shards: ReadonlyArray<ShardId.ShardId>, from: RunnerLocks | undefined, to: RunnerLocks) =>
  Effect.forEach(shards, (shard) => moveShard(shard, from, to), { discard: true })

const alice = user("alice")
const bob = user("bob")

describe("fencing a stale channel owner", () => {
  it.scopedLive("the older incarnation's writes after the newer one's load are refused; nothing is duplicated or lost", () =>
    Effect.gen(function*() {
      const db = yield* testDatabase
      const old = yield* node(db.url)
      const channelId = freshChannelId()
      const channelOn = (ctx: Context.Context<Effect.Effect.Context<typeof channelClient>>) =>
        Effect.provide(Effect.map(channelClient, (client) => client(channelId)), ctx)

      const a = yield* channelOn(old)
      yield* a.Create({ name: "fenced", visibility: "public", ownerId: alice })
      yield* a.Join({ userId: bob })
      const first = (yield* a.Post({ items: [item("alice", "a1"), item("bob", "b1")] })).map(accepted)
      expect(first.map((o) => o.message.seq)).toEqual([1, 2])

      // Another node takes the channel (its first request loads and claims it) and posts.
      const fresh = yield* node(db.url)
      const b = yield* channelOn(fresh)
      expect((yield* b.Info({})).members.map((m) => m.userId).sort()).toEqual([alice, bob])
      const [b2] = yield* b.Post({ items: [item("bob", "b2")] })
      expect(accepted(b2!).message.seq).toBe(3)

      // The old incarnation still believes head = 2: its post is refused, not written as a second seq 3.
      const refused = yield* Effect.flip(a.Post({ items: [item("alice", "a2")] }))
      expect(refused).toMatchObject({ _tag: "ChannelUnavailable", channelId, reason: expect.stringMatching(/moved to another owner/) })
      // A retry is safe: the old node reloads (claiming the channel back) and continues after seq 3.
      const [a2] = yield* a.Post({ items: [item("alice", "a2")] })
      expect(accepted(a2!).message).toMatchObject({ seq: 4, clientMsgId: "a2" })
      // Now the other one is the stale owner: its membership change is refused too.
      const refusedJoin = yield* Effect.flip(b.Join({ userId: user("carol") }))
      expect(refusedJoin).toMatchObject({ _tag: "ChannelUnavailable", channelId })
      const retried = (yield* b.Post({ items: [item("bob", "b3"), item("alice", "a2")] })).map(accepted)
      expect(retried.map((o) => [o.message.seq, o.duplicate])).toEqual([[5, false], [4, true]])

      const sql = Context.get(fresh, SqlClient.SqlClient)
      const stored = yield* storedMessages(sql, channelId)
      expect(stored.map((m) => [m.seq, m.authorId, m.clientMsgId])).toEqual([
        [1, "alice", "a1"],
        [2, "bob", "b1"],
        [3, "bob", "b2"],
        [4, "alice", "a2"],
        [5, "bob", "b3"]
      ])
      // the refused Join changed nothing
      const members = yield* sql<{ user_id: string }>`
        SELECT user_id FROM plexi_channel_members WHERE channel_id = ${channelId} ORDER BY user_id`
      expect(members.map((m) => m.user_id)).toEqual(["alice", "bob"])
    }), { timeout: 60_000 })

  it.scopedLive("a claim committed while a fenced INSERT waits on the channel row makes that INSERT write nothing", () =>
    Effect.gen(function*() {
      const db = yield* testDatabase
      const url = Redacted.make(db.url)
      const writerSide = yield* Layer.build(MessageStore.Default.pipe(Layer.provideMerge(migrated(layerPostgres(url)))))
      const claimSide = Context.get(yield* Layer.build(layerPostgres(url)), SqlClient.SqlClient)
      const store = Context.get(writerSide, MessageStore)
      const sql = Context.get(writerSide, SqlClient.SqlClient)
      const channelId = freshChannelId()
      yield* store.createChannel({
        id: channelId,
        name: "race",
        visibility: "public",
        createdBy: alice,
        createdAt: 0,
        members: []
      }, Option.none())
      const row = (seq: number): Message => ({
        id: messageIdOf(channelId, seq),
        channelId,
        seq,
        authorId: UserId.make("alice"),
        body: `m${seq}`,
        clientMsgId: `k${seq}`,
        createdAt: seq
      })

      // A new owner's claim, not yet committed, holds the channel row.
      const commit = yield* Deferred.make<void>()
      const claimed = yield* Deferred.make<void>()
      const claim = yield* claimSide.withTransaction(Effect.gen(function*() {
        yield* claimSide`UPDATE plexi_channels SET owner_epoch = owner_epoch + 1 WHERE id = ${channelId}`
        yield* Deferred.succeed(claimed, undefined)
        yield* Deferred.await(commit)
      })).pipe(Effect.fork)
      yield* Deferred.await(claimed)

      // The old owner's INSERT (epoch 1) must wait for the row lock...
      const insert = yield* Effect.fork(store.insertMessages([{ channelId, epoch: 1, rows: [row(1), row(2)] }]))
      yield* sql<{ n: string }>`
        SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR SHARE OF c%'`.pipe(
        Effect.repeat({ schedule: Schedule.spaced("5 millis"), until: (rows) => Number(rows[0]!.n) === 1 }),
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("the INSERT never waited for the claim") })
      )
      expect(insert.unsafePoll()).toBeNull()
      // ...and once the claim commits, it re-checks the row, sees the new epoch and writes nothing.
      yield* Deferred.succeed(commit, undefined)
      yield* Fiber.join(claim)
      const written = yield* Fiber.join(insert)
      expect(written).toEqual([false])
      expect(yield* storedMessages(sql, channelId)).toEqual([])

      // The claimed epoch writes.
      expect(Exit.isSuccess(yield* Effect.exit(store.insertMessages([{ channelId, epoch: 2, rows: [row(1)] }])))).toBe(true)
      expect((yield* storedMessages(sql, channelId)).map((m) => m.seq)).toEqual([1])
    }), { timeout: 60_000 })
  it.scopedLive("a runner that lost the channel's shard without noticing cannot claim it back: the new holder's writes are never fenced", () =>
    Effect.gen(function*() {
      const { a, b } = yield* twoRunners((yield* testDatabase).url)
      const channelId = freshChannelId()
      const shards = shardsOf(a.node, [channelId])
      yield* moveShards(shards, undefined, a.locks)
      const onA = yield* a.channel(channelId)
      yield* onA.Create({ name: "stale holder", visibility: "public", ownerId: alice })
      yield* onA.Join({ userId: bob })
      expect(accepted((yield* onA.Post({ items: [item("alice", "a1")] }))[0]!).message.seq).toBe(1)

      // A takeover: the shard's lock and record move to b, while a (stalled, now woken) still runs the channel.
      yield* moveShards(shards, a.locks, b.locks)
      const onB = yield* b.channel(channelId)
      expect(accepted((yield* onB.Post({ items: [item("bob", "b1")] }))[0]!).message.seq).toBe(2)
      // a's stale write is fenced, and its reloads claim nothing: it no longer holds the shard.
      expect(yield* Effect.flip(onA.Post({ items: [item("alice", "a2")] }))).toMatchObject({
        _tag: "ChannelUnavailable",
        reason: expect.stringMatching(/moved to another owner/)
      })
      for (let retry = 0; retry < 3; retry++) {
        expect(yield* Effect.flip(onA.Post({ items: [item("alice", "a2")] }))).toMatchObject({
          _tag: "ChannelUnavailable",
          reason: expect.stringMatching(/served by another node/)
        })
      }
      expect(yield* Effect.flip(onA.Join({ userId: user("carol") }))).toMatchObject({ _tag: "ChannelUnavailable" })
      // So the new holder's writes are never fenced: no ChannelUnavailable alternating between the two.
      const next = (yield* onB.Post({ items: [item("bob", "b2"), item("alice", "a2")] })).map(accepted)
      expect(next.map((o) => [o.message.seq, o.duplicate])).toEqual([[3, false], [4, false]])
      expect((yield* onB.Join({ userId: user("dave") })).members.map((m) => m.userId).sort()).toEqual([alice, bob, "dave"])

      const sql = Context.get(a.node, SqlClient.SqlClient)
      const epoch = yield* sql<{ owner_epoch: string }>`SELECT owner_epoch FROM plexi_channels WHERE id = ${channelId}`
      expect(Number(epoch[0]!.owner_epoch)).toBe(2)
      expect((yield* storedMessages(sql, channelId)).map((m) => [m.seq, m.clientMsgId])).toEqual([[1, "a1"], [2, "b1"], [3, "b2"], [4, "a2"]])

      // When the shard is handed back, a claims the channel again and continues after b's messages.
      yield* moveShards(shards, b.locks, a.locks)
      const back = (yield* onA.Post({ items: [item("alice", "a3"), item("alice", "a2")] })).map(accepted)
      expect(back.map((o) => [o.message.seq, o.duplicate])).toEqual([[5, false], [4, true]])
    }), { timeout: 60_000 })

  it.scopedLive("a runner that found a channel absent answers neither ChannelNotFound nor Create for it once another runner holds its shard", () =>
    Effect.gen(function*() {
      const { a, b } = yield* twoRunners((yield* testDatabase).url)
      const [createdByB, createdByNobody] = [freshChannelId(), freshChannelId()]
      const shards = shardsOf(a.node, [createdByB, createdByNobody])
      yield* moveShards(shards, undefined, a.locks)
      const [aFirst, aSecond] = [yield* a.channel(createdByB), yield* a.channel(createdByNobody)]
      // a holds the shards: "not found" is the truth, read by a claim that found no row.
      expect(yield* Effect.flip(aFirst.Info({}))).toMatchObject({ _tag: "ChannelNotFound" })
      expect(yield* Effect.flip(aSecond.Info({}))).toMatchObject({ _tag: "ChannelNotFound" })

      yield* moveShards(shards, a.locks, b.locks)
      const bFirst = yield* b.channel(createdByB)
      yield* bFirst.Create({ name: "made by b", visibility: "private", ownerId: bob })
      // a found both absent before the takeover; it no longer trusts that.
      expect(yield* Effect.flip(aFirst.Info({}))).toMatchObject({ _tag: "ChannelUnavailable" })
      expect(yield* Effect.flip(aFirst.History({ readerId: bob, afterSeq: 0, limit: 10 }))).toMatchObject({ _tag: "ChannelUnavailable" })
      expect(yield* Effect.flip(aFirst.Create({ name: "made by a", visibility: "public", ownerId: alice }))).toMatchObject({
        _tag: "ChannelUnavailable"
      })
      expect(yield* Effect.flip(aSecond.Create({ name: "made by a", visibility: "public", ownerId: alice }))).toMatchObject({
        _tag: "ChannelUnavailable"
      })

      const sql = Context.get(b.node, SqlClient.SqlClient)
      const rows = yield* sql<{ id: string; name: string }>`
        SELECT id, name FROM plexi_channels WHERE id IN (${createdByB}, ${createdByNobody})`
      expect(rows).toEqual([{ id: createdByB, name: "made by b" }])
      expect((yield* bFirst.Info({})).members).toEqual([{ userId: bob, role: "owner" }])
      // The holder creates the other one.
      const bSecond = yield* b.channel(createdByNobody)
      expect(yield* Effect.flip(bSecond.Info({}))).toMatchObject({ _tag: "ChannelNotFound" })
      expect((yield* bSecond.Create({ name: "also b", visibility: "public", ownerId: bob })).name).toBe("also b")
    }), { timeout: 60_000 })
})
