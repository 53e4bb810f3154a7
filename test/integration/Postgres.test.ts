/**
 * The entity stack on real Postgres (`layerPostgres`, migrated with the
 * cluster's tables under the advisory lock, SQL runner storage): commits
 * survive a node restart with head, members and dedupe rebuilt; two nodes
 * migrating an empty database at once both succeed; retries older than the
 * in-memory dedupe window are still deduped after a restart.
 *
 * Each "node" is one build of the stack; `Effect.provide` tears it down when
 * the effect ends, so the next build over the same database is a restart.
 */
import { ShardingConfig } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import type { PostItem } from "../../domain/Channel.ts"
import type { ChannelId } from "../../domain/Ids.ts"
import { layerPostgres } from "../../runtime/sql/Database.ts"
import { migrate, migrations } from "../../runtime/sql/Migrations.ts"
import { accepted, channelClient, freshChannelId, item, storedMessages, user } from "../fixtures/ChannelHelpers.ts"
import { entityStack, type EntityStackOptions, testShardingConfig } from "../fixtures/InMemoryCluster.ts"
import { realPostgres as testDatabase } from "../fixtures/TestDatabase.ts"

/** One node's lifetime over `url`: build the stack, run `effect`, shut down. */
const onNode = (url: string, options: EntityStackOptions = {}) =>
<A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.provide(entityStack(layerPostgres(Redacted.make(url)), { postgres: true, ...options })))

const alice = user("alice")
const bob = user("bob")

const setUpChannel = (channelId: ChannelId) =>
  Effect.gen(function*() {
    const client = yield* channelClient
    yield* client(channelId).Create({ name: "durable", visibility: "public", ownerId: alice })
    yield* client(channelId).Join({ userId: bob })
  })

const post = (channelId: ChannelId, items: ReadonlyArray<PostItem>) =>
  Effect.flatMap(channelClient, (client) => client(channelId).Post({ items }).pipe(Effect.timeout("10 seconds")))

describe("Postgres integration", () => {
  it.scopedLive("posts commit and a fresh node (restart) reads them, with head, members and dedupe rebuilt", () =>
    Effect.gen(function*() {
      const db = yield* testDatabase
      const channelId = freshChannelId()

      const firstRun = yield* onNode(db.url)(Effect.gen(function*() {
        yield* setUpChannel(channelId)
        const a = yield* post(channelId, [item("alice", "a1"), item("bob", "b1"), item("alice", "a2")])
        const b = yield* post(channelId, [item("bob", "b2"), item("alice", "a1")])
        // committed before the reply: visible to any other connection
        const sql = yield* SqlClient.SqlClient
        expect((yield* storedMessages(sql, channelId)).map((m) => m.seq)).toEqual([1, 2, 3, 4])
        return [...a, ...b].map(accepted)
      }))
      expect(firstRun.map((o) => [o.message.seq, o.duplicate])).toEqual([[1, false], [2, false], [3, false], [
        4,
        false
      ], [1, true]])

      yield* onNode(db.url)(Effect.gen(function*() {
        const client = yield* channelClient
        const info = yield* client(channelId).Info({})
        expect(info.members.map((m) => m.userId).sort()).toEqual([alice, bob])
        const history = yield* client(channelId).History({ readerId: bob, afterSeq: 0, limit: 100 })
        expect(history.map((m) => [m.seq, m.authorId, m.clientMsgId])).toEqual([
          [1, "alice", "a1"],
          [2, "bob", "b1"],
          [3, "alice", "a2"],
          [4, "bob", "b2"]
        ])
        expect(history).toEqual(firstRun.slice(0, 4).map((o) => o.message))
        // dedupe and head rebuilt: a retry gets the original, a new post continues at 5
        const outcomes = (yield* post(channelId, [item("bob", "b1", "changed"), item("bob", "b3")])).map(accepted)
        expect(outcomes[0]).toEqual({ _tag: "Accepted", message: firstRun[1]!.message, duplicate: true })
        expect(outcomes[1]!.message.seq).toBe(5)
        expect(outcomes[1]!.duplicate).toBe(false)
      }))

      // and a third start sees the fifth message
      const head = yield* onNode(db.url)(Effect.flatMap(channelClient, (client) =>
        client(channelId).History({ readerId: alice, afterSeq: 0, limit: 100 })))
      expect(head.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5])
    }), { timeout: 60_000 })

  it.scopedLive("two nodes migrating an empty database at once both succeed", () =>
    Effect.gen(function*() {
      const db = yield* testDatabase
      const node = Layer.mergeAll(
        layerPostgres(Redacted.make(db.url), { maxConnections: 4 }),
        ShardingConfig.layer(testShardingConfig())
      )
      const start = migrate({ runnerTables: true, lock: true }).pipe(Effect.provide(node))
      const results = yield* Effect.all([Effect.exit(start), Effect.exit(start), Effect.exit(start)], {
        concurrency: "unbounded"
      })
      for (const exit of results) expect(exit._tag).toBe("Success")

      // a client that lives as long as the test's scope
      const sql = Context.get(yield* Layer.build(layerPostgres(Redacted.make(db.url))), SqlClient.SqlClient)
      const tables = yield* sql<{ table_name: string }>`
        SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`
      const names = tables.map((t) => t.table_name)
      for (const t of ["plexi_messages", "plexi_channels", "plexi_channel_members", "plexi_users", "plexi_shard_holders", "plexi_migrations"]) {
        expect(names).toContain(t)
      }
      expect(names).toContain("cluster_runners")
      expect(names).toContain("cluster_messages")
      const applied = yield* sql<{ n: string | number }>`SELECT count(*) AS n FROM plexi_migrations`
      // Each migration applied exactly once, however many nodes ran them.
      expect(Number(applied[0]!.n)).toBe(Object.keys(migrations).length)
    }), { timeout: 60_000 })

  it.scopedLive("a retry older than the in-memory dedupe window is still deduped after a restart", () =>
    Effect.gen(function*() {
      const db = yield* testDatabase
      const channelId = freshChannelId()
      const tiny: EntityStackOptions = { settings: { dedupeLoad: 2, windowSize: 2 } }

      const originals = yield* onNode(db.url, tiny)(Effect.gen(function*() {
        yield* setUpChannel(channelId)
        const out = []
        for (let i = 1; i <= 10; i++) out.push(accepted((yield* post(channelId, [item("alice", `m${i}`)]))[0]!))
        return out
      }))
      expect(originals.map((o) => o.message.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])

      yield* onNode(db.url, tiny)(Effect.gen(function*() {
        const client = yield* channelClient
        // m1 is far outside the 2 keys loaded on activation: the entity must find it in Postgres
        const [retry] = yield* post(channelId, [item("alice", "m1", "retried body")])
        expect(retry).toEqual({ _tag: "Accepted", message: originals[0]!.message, duplicate: true })
        const history = yield* client(channelId).History({ readerId: alice, afterSeq: 0, limit: 100 })
        expect(history.length).toBe(10)
        expect(history.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])

        // a batch mixing old retries, a recent retry and new posts
        const mixed = (yield* post(channelId, [
          item("alice", "m2"),
          item("bob", "new1"),
          item("alice", "m10"),
          item("alice", "m3"),
          item("bob", "new1"),
          item("bob", "new2")
        ])).map(accepted)
        expect(mixed.map((o) => [o.message.seq, o.duplicate])).toEqual([
          [2, true],
          [11, false],
          [10, true],
          [3, true],
          [11, true],
          [12, false]
        ])
        const sql = yield* SqlClient.SqlClient
        expect((yield* storedMessages(sql, channelId)).map((m) => m.seq)).toEqual(
          Array.from({ length: 12 }, (_, i) => i + 1)
        )
      }))
    }), { timeout: 60_000 })
})
