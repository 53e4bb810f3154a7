/**
 * The shard-lock refresh of PlexiChat's runner storage on real Postgres
 * (runtime/cluster/FencedRunnerStorage.ts), called as the library calls it:
 * every refresh interval, each call given that interval (retries included)
 * before the runner's shard locks are marked unhealthy and every shard is
 * dropped. A refresh that cannot reach the database for less than the
 * expiration minus one interval (here: the heartbeat's UPDATE waits behind a
 * table lock) is answered from the last round and keeps the shards; one that
 * stays away longer fails, as a stalled runner's must.
 */
import { RunnerAddress, type RunnerStorage, ShardId } from "@effect/cluster"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Layer, Redacted } from "effect"
import { applicationName } from "../../runtime/cluster/RunnerSocket.ts"
import { layerPostgres } from "../../runtime/sql/Database.ts"
import { migrated } from "../fixtures/InMemoryCluster.ts"
import { runnerLocks, runnerStorage, waitsForLock } from "../fixtures/ShardLocks.ts"
import { realPostgres } from "../fixtures/TestDatabase.ts"

const config = { shardsPerGroup: 4, shardLockExpiration: Duration.seconds(2), shardLockRefreshInterval: Duration.millis(500) }
const interval = Duration.millis(500)
const shards = [ShardId.make("default", 1), ShardId.make("default", 2)]

/** The library's call: the refresh, given one interval to answer. */
const libraryRefresh = (storage: RunnerStorage.RunnerStorage["Type"], address: RunnerAddress.RunnerAddress) =>
  storage.refresh(address, shards).pipe(Effect.timeout(interval), Effect.exit)

/**
 * Holds an EXCLUSIVE lock on `cluster_runners` (so every heartbeat UPDATE
 * waits) from its own session; answers once the lock is held, with `release`
 * to end it (the fiber ends when the lock is gone).
 */
const blockHeartbeats = (url: string) =>
  Effect.gen(function*() {
    const sql = (yield* runnerLocks(url, "blocker")).sql
    const release = yield* Deferred.make<void>()
    const locked = yield* Deferred.make<void>()
    const fiber = yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`LOCK TABLE cluster_runners IN EXCLUSIVE MODE`
      yield* Deferred.succeed(locked, undefined)
      yield* Deferred.await(release)
    })).pipe(Effect.forkScoped)
    yield* Deferred.await(locked)
    return { release: Effect.zipRight(Deferred.succeed(release, undefined), Fiber.join(fiber)) }
  })

/** A fresh migrated database and the storage of the runner `host`, holding both shards. */
const runnerWithShards = (host: string) =>
  Effect.gen(function*() {
    const db = yield* realPostgres
    yield* Layer.build(migrated(layerPostgres(Redacted.make(db.url)), { postgres: true }))
    const address = RunnerAddress.make(host, 1)
    const storage = yield* runnerStorage(db.url, address, config)
    const acquired = yield* storage.acquire(address, shards)
    return { url: db.url, address, storage, acquired }
  })

describe("shard lock refresh", () => {
  it.scopedLive("a refresh that cannot reach Postgres for a second is answered within the library's interval and keeps every shard", () =>
    Effect.gen(function*() {
      const { url, address, storage, acquired } = yield* runnerWithShards("runner-slow")
      expect(acquired.map(String).sort()).toEqual(["default:1", "default:2"])
      const first = yield* libraryRefresh(storage, address)
      expect(Exit.isSuccess(first) && first.value.map(String).sort()).toEqual(["default:1", "default:2"])

      const observer = (yield* runnerLocks(url, "observer")).sql
      const blocker = yield* blockHeartbeats(url)
      const blockedAt = Date.now()
      // The library calls every interval; each call answers in time and keeps both shards.
      const answers: Array<Exit.Exit<Array<ShardId.ShardId>, unknown>> = []
      while (Date.now() - blockedAt < 1000) {
        answers.push(yield* libraryRefresh(storage, address))
        yield* Effect.sleep("100 millis")
      }
      expect(answers.length).toBeGreaterThan(5)
      for (const exit of answers) {
        expect(Exit.isSuccess(exit) && exit.value.map(String).sort()).toEqual(["default:1", "default:2"])
      }
      // Meanwhile the heartbeat really could not reach the table.
      yield* waitsForLock(observer, "%UPDATE%cluster_runners%last_heartbeat%")
      yield* blocker.release
      // The rounds reach Postgres again: the locks are still this runner's session's.
      const held = yield* observer<{ n: string }>`
        SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = ${applicationName(address)}`
      expect(Number(held[0]!.n)).toBe(2)
    }), { timeout: 60_000 })

  it.scopedLive("a refresh that stays away from Postgres for the expiration minus one interval fails, so the runner drops its shards", () =>
    Effect.gen(function*() {
      const { url, address, storage } = yield* runnerWithShards("runner-stalled")
      expect(Exit.isSuccess(yield* libraryRefresh(storage, address))).toBe(true)

      const blocker = yield* blockHeartbeats(url)
      const blockedAt = Date.now()
      let failed: Exit.Exit<Array<ShardId.ShardId>, unknown> | undefined
      while (failed === undefined && Date.now() - blockedAt < 10_000) {
        const exit = yield* libraryRefresh(storage, address)
        if (Exit.isFailure(exit)) failed = exit
        else yield* Effect.sleep("100 millis")
      }
      const after = Date.now() - blockedAt
      yield* blocker.release
      expect(failed).toBeDefined()
      // A failure the storage chose (not the library's timeout), once the last heartbeat is 1.5 s old.
      expect(Exit.isFailure(failed!) && String(failed.cause)).toMatch(/no shard lock refresh has reached the database/)
      expect(after).toBeGreaterThanOrEqual(1000)
      expect(after).toBeLessThan(3000)
    }), { timeout: 60_000 })
})
