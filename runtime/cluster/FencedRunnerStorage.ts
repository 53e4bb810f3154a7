/**
 * `SqlRunnerStorage`, with changes that keep a shard with one owner and move it quickly:
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
 * - **A stopping runner leaves the ring only once its locks are free.** The
 *   library unregisters the runner as soon as its entities start stopping
 *   (preemptive shutdown) and releases its locks only after they stopped: the
 *   other runners, rebuilding their rings meanwhile, found the shards still
 *   locked and waited a full acquisition round (1 s) before trying again. The
 *   unregistration is held back until `releaseAll`, and runs right after it.
 * - **A shard freed a moment later is taken at once.** The library tries to
 *   lock the shards the ring gives it, then waits 1 s before it tries the
 *   ones it did not get. A joining runner's first try comes before the old
 *   owners, which notice it at their next assignment refresh, let the shards
 *   go, so each moving shard waited for that second try (0.5-1 s on top of the
 *   hand-over). An acquisition that did not get every shard asked for tries
 *   again every 25 ms until the library's deadline for the call (500 ms by
 *   default) cuts it; after a call that timed out the library calls again at
 *   once. The library's lock query reports the locks its session already
 *   holds, so a retry never takes a lock twice and a lock taken by a call that
 *   timed out is returned by the next.
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

/** How often an acquisition tries again for the shards it did not get. */
const acquireRetryMs = 25

/**
 * Locks `shardIds` with `lockOnce`, trying again every `acquireRetryMs` for the ones still held elsewhere, until it
 * has them all or the library's deadline for the call interrupts it (`capMs`, a little past that deadline, answers a
 * caller without one with what it got). Each try is uninterruptible (an interrupted
 * query would make the library rebuild its lock connection, which frees every lock), the waits between are not. Locks
 * taken by a try whose call then timed out are not lost: the library calls again at once (no 1 s wait after a timed-out
 * call) and its lock query reports the locks its session holds.
 */
const waitingLock = <E, R>(
  lockOnce: (address: RunnerAddress.RunnerAddress, shardIds: Iterable<ShardId.ShardId>) => Effect.Effect<Array<ShardId.ShardId>, E, R>,
  capMs: number
) =>
(address: RunnerAddress.RunnerAddress, shardIds: Iterable<ShardId.ShardId>) =>
  Effect.gen(function*() {
    const wanted = Array.from(shardIds, String)
    const until = (yield* Clock.currentTimeMillis) + capMs
    while (true) {
      const locked = yield* Effect.uninterruptible(lockOnce(address, shardIds))
      const held = new Set(locked.map(String))
      if (wanted.every((id) => held.has(id)) || (yield* Clock.currentTimeMillis) >= until) return locked
      yield* Effect.sleep(acquireRetryMs)
    }
  })

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
  /** The runner asked to be unregistered; done after its locks are released. */
  let unregisterPending = false
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

  const lockOnce = (address: RunnerAddress.RunnerAddress, shardIds: Iterable<ShardId.ShardId>) =>
    fenceOnFailure(one(Effect.tap(storage.acquire(address, shardIds), (locked) => Effect.sync(() => rounds.acquired(locked)))))
  // Past the library's own deadline for the call (intervalMs), so that the library's timeout comes first.
  const lockWaiting = waitingLock(lockOnce, intervalMs + 100)

  return RunnerStorage.RunnerStorage.of({
    ...storage,
    acquire: (address, shardIds) => Effect.flatMap(lockWaiting(address, shardIds), (locked) => recorded(address, locked)),
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
    unregister: (address) => Effect.sync(() => { unregisterPending = true }).pipe(Effect.zipRight(Effect.logDebug("runner unregistration held until its shard locks are released", address))),
    releaseAll: (address) =>
      Effect.suspend(() => {
        rounds.stop()
        return one(storage.releaseAll(address)).pipe(
          Effect.zipRight(Effect.logInfo("shard locks released")),
          Effect.ensuring(Effect.suspend(() => unregisterPending ? Effect.ignore(storage.unregister(address)) : Effect.void))
        )
      })
  })
})

export const layer = Layer.scoped(RunnerStorage.RunnerStorage, Effect.orDie(make))
