/**
 * `plexi_shard_holders` on real Postgres: the record a runner writes when it
 * has locked a shard (runtime/cluster/ShardHolders.ts, FencedRunnerStorage.ts)
 * and the order it keeps with Channel claims (src/messaging/store/ChannelClaim.ts).
 */
import { RunnerAddress, ShardId } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Fiber, Layer, Option, Redacted } from "effect"
import { UserId } from "../../domain/Ids.ts"
import { applicationName } from "../../runtime/cluster/RunnerSocket.ts"
import { lockKeys, runnerName } from "../../runtime/cluster/ShardHolders.ts"
import { layerPostgres } from "../../runtime/sql/Database.ts"
import { MessageStore } from "../../src/messaging/MessageStore.ts"
import { freshChannelId } from "../fixtures/ChannelHelpers.ts"
import { migrated } from "../fixtures/InMemoryCluster.ts"
import { holderOf, moveShard, runnerLocks, runnerStorage, waitsForLock } from "../fixtures/ShardLocks.ts"
import { realPostgres } from "../fixtures/TestDatabase.ts"

const shard = ShardId.make("default", 3)

/** A migrated MessageStore and its pool on `url`. */
const storeOn = (url: string) =>
  Effect.map(Layer.build(MessageStore.Default.pipe(Layer.provideMerge(migrated(layerPostgres(Redacted.make(url)))))), (ctx) => ({
    store: Context.get(ctx, MessageStore),
    sql: Context.get(ctx, SqlClient.SqlClient)
  }))

describe("shard holders", () => {
  it.scopedLive("a shard the library locks is recorded as the runner's before it counts as acquired, under the library's lock key", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      yield* storeOn(db.url)
      const config = { shardsPerGroup: 4, availableShardGroups: ["zeta", "alpha"], assignedShardGroups: ["zeta", "alpha"] }
      const p = RunnerAddress.make("runner-p", 1)
      const q = RunnerAddress.make("runner-q", 1)
      const wanted = [ShardId.make("zeta", 2), ShardId.make("alpha", 4)]
      const acquired = yield* (yield* runnerStorage(db.url, p, config)).acquire(p, wanted)
      expect(acquired.map(String).sort()).toEqual(["alpha:4", "zeta:2"])

      const sql = (yield* runnerLocks(db.url, "observer")).sql
      const held = yield* sql<{ key: string }>`
        SELECT ((l.classid::bigint << 32) | l.objid::bigint)::text AS key FROM pg_locks l
        JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()
          AND a.application_name = ${applicationName(p)}`
      // SqlRunnerStorage's keys, as ShardHolders.lockKeys computes them: groups sorted, 1,000,000 apart.
      expect(held.map((r) => Number(r.key)).sort()).toEqual(wanted.map(lockKeys(config)).sort())
      expect(wanted.map(lockKeys(config))).toEqual([2_000_002, 1_000_004])
      for (const id of wanted) expect(yield* holderOf(sql, id)).toBe(runnerName(p))

      // Another runner cannot lock them, so it records nothing and acquires nothing.
      expect(yield* (yield* runnerStorage(db.url, q, config)).acquire(q, wanted)).toEqual([])
      for (const id of wanted) expect(yield* holderOf(sql, id)).toBe(runnerName(p))
    }), { timeout: 60_000 })

  it.scopedLive("a runner is recorded only while one of its sessions holds the shard's lock", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      const { sql } = yield* storeOn(db.url)
      const a = yield* runnerLocks(db.url, "runner-a")
      const b = yield* runnerLocks(db.url, "runner-b")
      expect(yield* a.record([shard])).toEqual([])
      expect(yield* holderOf(sql, shard)).toBeUndefined()

      yield* moveShard(shard, undefined, a)
      expect(yield* a.record([shard])).toEqual([shard])
      expect(yield* b.record([shard])).toEqual([])
      expect(yield* holderOf(sql, shard)).toBe(a.name)

      yield* moveShard(shard, a, b)
      expect(yield* holderOf(sql, shard)).toBe(b.name)
      // The former holder, woken from a stall, still believes it holds the shard: its record is refused.
      expect(yield* a.record([shard])).toEqual([])
      expect(yield* holderOf(sql, shard)).toBe(b.name)
    }), { timeout: 60_000 })

  it.scopedLive("a record that waits for the row while its runner loses the lock writes nothing (the check follows the row lock)", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      const { sql } = yield* storeOn(db.url)
      const [a, b, c] = [yield* runnerLocks(db.url, "runner-a"), yield* runnerLocks(db.url, "runner-b"), yield* runnerLocks(db.url, "runner-c")]
      yield* moveShard(shard, undefined, c)
      // a takes the lock; its record is not written yet.
      yield* c.unlock(shard)
      yield* a.lock(shard)

      // An in-flight claim holds the record row (share lock) ...
      const release = yield* Deferred.make<void>()
      const locked = yield* Deferred.make<void>()
      const claim = yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`SELECT 1 FROM plexi_shard_holders WHERE shard_id = ${shard.toString()} FOR SHARE`
        yield* Deferred.succeed(locked, undefined)
        yield* Deferred.await(release)
      })).pipe(Effect.fork)
      yield* Deferred.await(locked)
      // ... so a's record, whose statement started while a held the lock, waits for it.
      const recordA = yield* Effect.fork(a.record([shard]))
      yield* waitsForLock(sql, "%INSERT INTO plexi_shard_holders%")
      // Meanwhile the shard's lock moves to b.
      yield* a.unlock(shard)
      yield* b.lock(shard)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(claim)
      expect(yield* Fiber.join(recordA)).toEqual([])
      expect(yield* holderOf(sql, shard)).toBe(c.name)
      expect(yield* b.record([shard])).toEqual([shard])
      expect(yield* holderOf(sql, shard)).toBe(b.name)
    }), { timeout: 60_000 })

  it.scopedLive("a claim by the recorded holder commits before a new holder's record, and the former holder claims nothing after it", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      const { sql, store } = yield* storeOn(db.url)
      const a = yield* runnerLocks(db.url, "runner-a")
      const b = yield* runnerLocks(db.url, "runner-b")
      const holdOf = (runner: string) => Option.some({ shardId: shard.toString(), runner })
      const channelId = freshChannelId()
      yield* moveShard(shard, undefined, a)
      const channel = { id: channelId, name: "order", visibility: "public", createdBy: UserId.make("alice"), createdAt: 0, members: [] } as const
      expect(yield* store.createChannel(channel, holdOf(a.name))).toBe("Created")

      // A write of the channel's owner holds the channel row (as a group-commit INSERT does) ...
      const release = yield* Deferred.make<void>()
      const locked = yield* Deferred.make<void>()
      const write = yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`SELECT 1 FROM plexi_channels WHERE id = ${channelId} FOR SHARE`
        yield* Deferred.succeed(locked, undefined)
        yield* Deferred.await(release)
      })).pipe(Effect.fork)
      yield* Deferred.await(locked)
      // ... so a's claim, which holds a's record, waits for the channel row.
      const claimA = yield* Effect.fork(store.claimChannel(channelId, holdOf(a.name)))
      yield* waitsForLock(sql, "%UPDATE plexi_channels SET owner_epoch%")
      // The shard moves to b: b's record waits for a's claim.
      yield* a.unlock(shard)
      yield* b.lock(shard)
      const recordB = yield* Effect.fork(b.record([shard]))
      yield* waitsForLock(sql, "%INSERT INTO plexi_shard_holders%")
      expect(recordB.unsafePoll()).toBeNull()

      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(write)
      expect(yield* Fiber.join(claimA)).toMatchObject({ _tag: "Claimed", epoch: 2 })
      expect(yield* Fiber.join(recordB)).toEqual([shard])
      // Every claim of the new holder comes after a's, with a higher epoch; a's later claims and creations are refused.
      expect(yield* store.claimChannel(channelId, holdOf(b.name))).toMatchObject({ _tag: "Claimed", epoch: 3 })
      expect(yield* store.claimChannel(channelId, holdOf(a.name))).toEqual({ _tag: "NotHeld" })
      const other = { ...channel, id: freshChannelId() }
      expect(yield* store.createChannel(other, holdOf(a.name))).toBe("NotHeld")
      expect(yield* store.claimChannel(other.id, holdOf(b.name))).toEqual({ _tag: "Absent" })
      const epoch = yield* sql<{ owner_epoch: string }>`SELECT owner_epoch FROM plexi_channels WHERE id = ${channelId}`
      expect(Number(epoch[0]!.owner_epoch)).toBe(3)
    }), { timeout: 60_000 })
})
