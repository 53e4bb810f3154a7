/**
 * Takes dead and stalled runners out of the cluster quickly, from what
 * Postgres knows about their sessions (every session of a runner carries
 * `application_name = "plexi-runner <host>:<port>"`, see RunnerSocket.ts).
 *
 * - **Dead:** a runner row with no session left. A killed process's TCP
 *   connections close with it, Postgres ends its backends and frees its
 *   advisory locks at once; only its heartbeat row kept the others waiting
 *   for the lock expiration. The row is deleted, the survivors' next
 *   assignment refresh drops it from the ring and they take its shards.
 * - **Stalled:** a runner whose heartbeat is older than the shard lock
 *   expiration but whose sessions are open (SIGSTOP, a long GC pause, a frozen
 *   VM, a partition from the database that TCP has not noticed). It keeps its
 *   advisory locks for as long as those sessions live, so nobody could take
 *   its shards. Its sessions that started before its last heartbeat (its lock
 *   session among them) are terminated, which frees the locks; the next round
 *   deletes the row. When it wakes, its lock session is gone and
 *   FencedRunnerStorage drops all its shards before it re-takes any.
 *
 * Each round also cuts this node's outgoing connections to runners that are
 * no longer live (RunnerConnections.ts), so that requests stuck on a stalled
 * runner fail and go to the new owner.
 *
 * Every runner runs this (it is idempotent), but only while its own heartbeat
 * is fresh: a runner that is itself late, or a database too slow for anyone's
 * heartbeat, fences nobody.
 */
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Layer, Option, Schedule } from "effect"
import { ClusterConfig } from "./ClusterConfig.ts"
import { RunnerConnections } from "./RunnerConnections.ts"
import { applicationNamePrefix, RunnerSocket } from "./RunnerSocket.ts"

const reapOnce = (self: string, expirationSeconds: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const connections = yield* RunnerConnections
    const rows = yield* sql<{ kind: string; address: string }>`
      WITH me AS (
        SELECT 1 FROM cluster_runners
        WHERE address = ${self} AND last_heartbeat > NOW() - make_interval(secs => ${expirationSeconds})
      ), stalled AS (
        SELECT r.address, pg_terminate_backend(a.pid) AS ended
        FROM cluster_runners r
        JOIN pg_stat_activity a
          ON a.datname = current_database() AND a.application_name = ${applicationNamePrefix} || r.address
        WHERE EXISTS (SELECT 1 FROM me)
          AND r.address <> ${self}
          AND r.last_heartbeat < NOW() - make_interval(secs => ${expirationSeconds})
          AND a.backend_start < r.last_heartbeat
      ), dead AS (
        DELETE FROM cluster_runners r
        WHERE EXISTS (SELECT 1 FROM me)
          AND r.address <> ${self}
          AND NOT EXISTS (
            SELECT 1 FROM pg_stat_activity a
            WHERE a.datname = current_database() AND a.application_name = ${applicationNamePrefix} || r.address
          )
        RETURNING r.address
      )
      SELECT DISTINCT 'stalled' AS kind, address FROM stalled WHERE ended
      UNION ALL
      SELECT 'dead' AS kind, address FROM dead
      UNION ALL
      SELECT 'live' AS kind, r.address FROM cluster_runners r
      WHERE r.last_heartbeat > NOW() - make_interval(secs => ${expirationSeconds})
        AND r.address NOT IN (SELECT address FROM dead)`
    const live = new Set(rows.filter((r) => r.kind === "live").map((r) => r.address))
    const cut = yield* connections.cutAllBut(live)
    if (cut.length > 0) yield* Effect.logInfo(`Cut the connections to runners no longer live: ${cut.join(", ")}`)
    for (const row of rows) {
      if (row.kind === "live") continue
      yield* row.kind === "dead"
        ? Effect.logInfo(`Runner ${row.address} has no database session left: removed from the cluster`)
        : Effect.logWarning(
          `Runner ${row.address} missed its heartbeat for ${expirationSeconds} s: its database sessions were ended to free its shards`
        )
    }
  })

/** Runs the reaper for the life of the node (multi-node only). */
export const layer = Layer.scopedDiscard(Effect.gen(function*() {
  const socket = yield* RunnerSocket
  if (Option.isNone(socket)) return
  const cluster = yield* ClusterConfig
  const self = `${socket.value.address.host}:${socket.value.address.port}`
  const expirationSeconds = Duration.toMillis(cluster.shardLockExpiration) / 1000
  yield* reapOnce(self, expirationSeconds).pipe(
    Effect.catchAllCause((cause) => Effect.logDebug("Runner reaper round failed", cause)),
    Effect.repeat(Schedule.spaced(cluster.runnerReapInterval)),
    Effect.annotateLogs({ module: "RunnerReaper" }),
    Effect.forkScoped
  )
}))
