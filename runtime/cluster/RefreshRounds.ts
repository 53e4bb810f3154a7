/**
 * Shard-lock refreshes in rounds of their own, and the library's refresh
 * answered from them.
 *
 * The library gives each refresh min(refresh, expiration/3) (500 ms by
 * default), retries included, and marks its shard locks unhealthy when one
 * misses it: every shard is dropped and every entity stopped. On a busy node
 * (a starved CPU, a long GC, a slow database) one slow round trip did that.
 * Here the refresh that reaches Postgres runs on its own fiber, one round
 * after the other at that interval, and the library's call is answered at
 * once from the last round (shards a round found unlocked are reported lost)
 * while the last heartbeat that succeeded started less than the expiration
 * minus one interval ago: until its heartbeat is older than the expiration,
 * the other runners keep this one in their ring and do not take its shards.
 * Past that, or once fenced, the call fails, as it did before. The rounds run
 * in the scheduler's urgent lane (EventLoopScheduler.ts).
 *
 * A round locks again what it refreshes (the library's refresh re-takes the
 * advisory locks), so it refreshes only the shards the library still wants:
 * those it last asked about, less those it released since, until it acquires
 * them again.
 */
import { ClusterError, type RunnerAddress, type RunnerStorage, type ShardId } from "@effect/cluster"
import { Clock, Duration, Effect, Schedule } from "effect"
import { urgent } from "../EventLoopScheduler.ts"

export interface RoundsOptions {
  readonly storage: RunnerStorage.RunnerStorage["Type"]
  readonly intervalMs: number
  /** How long after the last good heartbeat started the library's refresh may still be answered from the rounds. */
  readonly answerValidMs: number
  /** Runs a lock operation alone on the lock connection. */
  readonly one: <A, E, R>(operation: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** A refresh that reached the database: records its heartbeat and judges its failure. */
  readonly refreshed: <A, E, R>(operation: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly fenced: () => boolean
  /** When the last heartbeat that succeeded started. */
  readonly heartbeatStartedAt: () => number
}

export const make = Effect.fnUntraced(function*(options: RoundsOptions) {
  const { answerValidMs, intervalMs, one, storage } = options
  let wanted: { readonly address: RunnerAddress.RunnerAddress; readonly shards: Map<string, ShardId.ShardId> } | undefined
  /** Shards the last round found no longer locked, until the library acquires them again. */
  const lost = new Set<string>()
  const released = new Set<string>()
  const refreshable = (ids: Iterable<ShardId.ShardId>) => Array.from(ids).filter((id) => !released.has(String(id)))

  /** One refresh of the shards wanted once it has the lock connection (failures are logged by `refreshed`). */
  const round = one(Effect.suspend(() => {
    if (options.fenced() || wanted === undefined) return Effect.void
    const shards = Array.from(wanted.shards.values())
    return Effect.map(options.refreshed(storage.refresh(wanted.address, shards)), (locked) => {
      const still = new Set(locked.map(String))
      for (const id of shards) {
        if (still.has(String(id))) lost.delete(String(id))
        else lost.add(String(id))
      }
    })
  })).pipe(Effect.ignore)
  // In the scheduler's urgent lane: the heartbeat must not wait behind a backlog of entity calls.
  yield* urgent(round.pipe(Effect.repeat(Schedule.spaced(Duration.millis(intervalMs))), Effect.interruptible, Effect.forkScoped))

  /** The library's refresh of the shards it holds. */
  const answer = (address: RunnerAddress.RunnerAddress, held: ReadonlyArray<ShardId.ShardId>) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      wanted = { address, shards: new Map(refreshable(held).map((id) => [String(id), id])) }
      if (options.fenced()) {
        return Effect.fail(new ClusterError.PersistenceError({ cause: new Error("the shard lock session was lost; shards are being dropped") }))
      }
      const age = now - options.heartbeatStartedAt()
      if (age >= answerValidMs) {
        return Effect.fail(new ClusterError.PersistenceError({ cause: new Error(`no shard lock refresh has reached the database for ${age} ms`) }))
      }
      return Effect.succeed(held.filter((id) => !lost.has(String(id))))
    })

  return {
    answer,
    /** The library holds nothing (or probes while unhealthy): no round runs. */
    stop: () => {
      wanted = undefined
    },
    /** Shards locked by the library's acquire (on the lock connection). */
    acquired: (ids: ReadonlyArray<ShardId.ShardId>) => ids.forEach((id) => {
      released.delete(String(id))
      lost.delete(String(id))
    }),
    /** A shard the library released (on the lock connection). */
    released: (id: ShardId.ShardId) => {
      released.add(String(id))
      wanted?.shards.delete(String(id))
    }
  } as const
})
