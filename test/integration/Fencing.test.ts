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
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Option, Redacted, Schedule } from "effect"
import type { Message } from "../../domain/Channel.ts"
import { messageIdOf, UserId } from "../../domain/Ids.ts"
import { MessageStore } from "../../src/messaging/MessageStore.ts"
import { layerPostgres } from "../../runtime/sql/Database.ts"
import { accepted, channelClient, freshChannelId, item, storedMessages, user } from "../fixtures/ChannelHelpers.ts"
import { entityStack, migrated } from "../fixtures/InMemoryCluster.ts"
import { makeTestDatabase } from "../fixtures/TestDatabase.ts"

/** A fresh database on the real server, dropped when the test's scope closes. */
const testDatabase = Effect.acquireRelease(Effect.promise(makeTestDatabase), (db) => Effect.promise(db.drop)).pipe(
  Effect.tap((db) =>
    Effect.sync(() => {
      if (db.kind !== "postgres") throw new Error("integration tests need a real Postgres at 127.0.0.1:5432")
    })
  )
)

/** One node's entity stack over `url`, alive for the rest of the test's scope (memory runner storage: each owns every shard). */
const node = (url: string) => Layer.build(entityStack(layerPostgres(Redacted.make(url), { maxConnections: 4 })))

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
})
