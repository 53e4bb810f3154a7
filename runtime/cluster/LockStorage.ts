/**
 * The library's `SqlRunnerStorage`, given a longer deadline for each lock
 * operation, with the runner list kept under the real lock expiration.
 *
 * The library gives every lock operation min(refresh, expiration/3) (500 ms
 * by default) and rebuilds its lock connection after one that missed it,
 * which releases every advisory lock the runner holds. Refreshes run in
 * rounds off the library's own deadline (RefreshRounds.ts), whose answers stay
 * valid for the expiration minus one refresh interval: a lock operation may
 * take that long. The storage reads that deadline from the `ShardingConfig`
 * it is built with, so it is built with one whose interval is the deadline
 * (and an expiration three times as long); that expiration must not reach the
 * runner list, by which every runner builds its ring, so `getRunners` is the
 * library's query under the real expiration.
 */
import { ClusterError, Runner, ShardingConfig, SqlRunnerStorage } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { Duration, Effect } from "effect"

/** The cluster's runner table (`SqlRunnerStorage`'s default prefix). */
const runnersTable = "cluster_runners"

export const make = (deadline: Duration.Duration) =>
  Effect.gen(function*() {
    const config = yield* ShardingConfig.ShardingConfig
    const sql = yield* SqlClient.SqlClient
    const storage = yield* SqlRunnerStorage.make({}).pipe(Effect.provideService(ShardingConfig.ShardingConfig, {
      ...config,
      shardLockRefreshInterval: deadline,
      shardLockExpiration: Duration.times(deadline, 3)
    }))
    const expiresSeconds = sql.literal(String(Math.ceil(Duration.toSeconds(config.shardLockExpiration))))
    const getRunners = sql`SELECT runner, healthy FROM ${sql(runnersTable)} WHERE last_heartbeat > NOW() - INTERVAL '${expiresSeconds} seconds'`.values.pipe(
      Effect.map((rows) =>
        rows.flatMap(([runner, healthy]): Array<[Runner.Runner, boolean]> => {
          try {
            return [[Runner.Runner.decodeSync(String(runner)), Boolean(healthy)]]
          } catch {
            return [] // as the library does: a row it cannot read is no runner
          }
        })
      ),
      Effect.mapError((cause) => new ClusterError.PersistenceError({ cause }))
    )
    return { ...storage, getRunners }
  })
