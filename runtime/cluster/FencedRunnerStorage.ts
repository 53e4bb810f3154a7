/**
 * `SqlRunnerStorage`, with three changes that keep a shard with one owner:
 *
 * - **One lock operation at a time.** The library runs `acquire` (shard
 *   acquisition loop) and `refresh` (heartbeat loop) concurrently on its one
 *   reserved lock connection; node-postgres queues the second query and warns
 *   ("Calling client.query() when the client is already executing a query is
 *   deprecated"). A semaphore serializes them. (An operation that outlives
 *   the library's own deadline finishes detached and may still overlap.)
 * - **A lost lock session drops every shard.** The library rebuilds its lock
 *   connection on any error and its next refresh re-takes the advisory locks
 *   on the new session: a runner whose session was ended (by the reaper of a
 *   stalled runner, by a network cut, by an operator) would re-lock its
 *   shards and carry on with entity state from before the gap, in which
 *   another runner may have owned them. So after a failed lock operation that
 *   may have lost the session (FenceDecision.ts: anything but a statement
 *   timeout soon after a good heartbeat) this storage fails every refresh
 *   that holds shards: after its retries
 *   the runner marks its shard locks unhealthy, force-stops all its entities
 *   and releases every lock. Only its probe (a refresh holding nothing)
 *   clears the fence; shards are then acquired afresh and entities reload
 *   their state from Postgres.
 * - **A shard counts as acquired once it is recorded.** The shards the
 *   library locked are recorded as this runner's in `plexi_shard_holders`
 *   (ShardHolders.ts) before they are returned, and only those recorded are:
 *   Channel claims check that record, so a runner that lost a shard without
 *   noticing (stalled, then woken) cannot claim its channels back from the
 *   new holder. A failed record fails the acquisition (the library retries
 *   it; the locks stay taken meanwhile).
 * - **A slow refresh does not drop every shard.** Refreshes run in rounds
 *   of their own and the library's refresh is answered from them
 *   (RefreshRounds.ts), on a storage whose lock operations may take as long
 *   as such an answer stays valid (LockStorage.ts).
 */
import { ClusterError, type RunnerAddress, RunnerStorage, type ShardId, ShardingConfig } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { Clock, Duration, Effect, Layer } from "effect"
import { shouldFence } from "./FenceDecision.ts"
import * as LockStorage from "./LockStorage.ts"
import * as RefreshRounds from "./RefreshRounds.ts"
import * as ShardHolders from "./ShardHolders.ts"

export const make = Effect.gen(function*() {
  const config = yield* ShardingConfig.ShardingConfig
  const expirationMs = Duration.toMillis(config.shardLockExpiration)
  // The library's own refresh interval and deadline (min(refresh, expiration/3)).
  const intervalMs = Math.min(Duration.toMillis(config.shardLockRefreshInterval), expirationMs / 3)
  // A round's answer stays valid until one interval before the expiration; a lock operation may take as long.
  const answerValidMs = expirationMs - intervalMs
  const storage = yield* LockStorage.make(Duration.millis(answerValidMs))
  const recordHolders = ShardHolders.record(yield* SqlClient.SqlClient, ShardHolders.lockKeys(config))
  const serial = yield* Effect.makeSemaphore(1)
  let fenced = false
  /** When the last heartbeat that succeeded was sent (its row's timestamp is no older). */
  let heartbeatStartedAt = yield* Clock.currentTimeMillis
  const one = serial.withPermits(1)
  const fenceOnFailure = <A, E, R>(operation: Effect.Effect<A, E, R>) =>
    Effect.tapErrorCause(operation, (cause) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (fenced) return Effect.void
        if (!shouldFence(cause, now - heartbeatStartedAt, expirationMs)) {
          return Effect.logWarning("Shard lock operation timed out on a live session: shards kept", cause)
        }
        fenced = true
        return Effect.logWarning("Shard lock session failed: dropping every shard of this runner until its locks are re-taken", cause)
      }))
  const heartbeat = <A, E, R>(operation: Effect.Effect<A, E, R>) =>
    Effect.flatMap(Clock.currentTimeMillis, (startedAt) =>
      Effect.tap(operation, () => Effect.sync(() => { heartbeatStartedAt = Math.max(heartbeatStartedAt, startedAt) })))
  /** The locked shards that are now recorded as this runner's (on the pool, not the lock connection). */
  const recorded = (address: RunnerAddress.RunnerAddress, locked: Array<ShardId.ShardId>) =>
    locked.length === 0 ? Effect.succeed(locked) : recordHolders(address, locked).pipe(
      Effect.mapError((cause) => new ClusterError.PersistenceError({ cause })),
      Effect.tap((held) =>
        held.length === locked.length ? Effect.void : Effect.logWarning(
          "Shards locked but not recorded as this runner's: no session of this runner holds their lock",
          locked.filter((id) => !held.includes(id)).map(String)
        ))
    )
  const rounds = yield* RefreshRounds.make({
    storage,
    intervalMs,
    answerValidMs,
    one,
    refreshed: (operation) => fenceOnFailure(heartbeat(operation)),
    fenced: () => fenced,
    heartbeatStartedAt: () => heartbeatStartedAt
  })

  return RunnerStorage.RunnerStorage.of({
    ...storage,
    acquire: (address, shardIds) =>
      Effect.flatMap(
        fenceOnFailure(one(Effect.tap(storage.acquire(address, shardIds), (locked) => Effect.sync(() => rounds.acquired(locked))))),
        (locked) => recorded(address, locked)
      ),
    refresh: (address, shardIds) =>
      Effect.suspend(() => {
        const held = Array.from(shardIds)
        if (held.length > 0) return rounds.answer(address, held)
        // The unhealthy runner's probe (or a runner holding nothing): with nothing held, a session that works again is safe to use.
        rounds.stop()
        return heartbeat(one(storage.refresh(address, held))).pipe(Effect.tap(() => Effect.sync(() => { fenced = false })))
      }),
    release: (address, shardId) =>
      fenceOnFailure(one(Effect.tap(storage.release(address, shardId), () => Effect.sync(() => rounds.released(shardId))))),
    releaseAll: (address) =>
      Effect.suspend(() => {
        rounds.stop()
        return one(storage.releaseAll(address))
      })
  })
})

export const layer = Layer.scoped(RunnerStorage.RunnerStorage, Effect.orDie(make))
