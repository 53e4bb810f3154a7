/**
 * Takes dead and stalled runners out of the cluster quickly, from what
 * Postgres knows about their sessions (every session of a runner carries
 * `application_name = "plexi-runner <hash of host:port>"`, see RunnerSocket.ts).
 * The decision is ReapDecision.ts; this file reads its input and acts on it.
 *
 * - **Dead:** a runner row with no session left. A killed process's TCP
 *   connections close with it, Postgres ends its backends and frees its
 *   advisory locks at once; only its heartbeat row kept the others waiting
 *   for the lock expiration. The row is deleted, the survivors' next
 *   assignment refresh drops it from the ring and they take its shards.
 * - **Stalled:** a runner whose heartbeat is older than the shard lock
 *   expiration plus two heartbeat intervals but whose sessions are open
 *   (SIGSTOP, a long GC pause, a frozen VM, a partition from the database that
 *   TCP has not noticed). It keeps its advisory locks for as long as those
 *   sessions live, so nobody could take its shards. Its sessions that started
 *   before its last heartbeat (its lock session among them) are terminated,
 *   which frees the locks; the next round deletes the row. When it wakes, its
 *   lock session is gone and FencedRunnerStorage drops all its shards before
 *   it re-takes any.
 *
 * Each round also cuts this node's outgoing connections to runners that are
 * dead or stalled (RunnerConnections.ts), so that requests stuck on a stalled
 * runner fail and go to the new owner.
 *
 * Every runner runs this (it is idempotent), but only while its own heartbeat
 * is younger than half the expiration: a runner that is itself late, or a
 * database too slow for anyone's heartbeat, fences and cuts nobody.
 */
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Layer, Option, Schedule } from "effect"
import { ClusterConfig } from "./ClusterConfig.ts"
import { decide, heartbeatInterval, type ReapTimings, stallAfterMs } from "./ReapDecision.ts"
import { RunnerConnections } from "./RunnerConnections.ts"
import { applicationNameOf, applicationNamePrefix, RunnerSocket } from "./RunnerSocket.ts"

/** The runner rows (heartbeat age by the database's clock) and the runner session names, in one statement. */
export const look = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ kind: string; value: string; age: number | null }>`
    SELECT 'runner' AS kind, address AS value, (EXTRACT(EPOCH FROM (NOW() - last_heartbeat)) * 1000)::float8 AS age
    FROM cluster_runners
    UNION ALL
    SELECT DISTINCT 'session' AS kind, application_name AS value, NULL::float8 AS age
    FROM pg_stat_activity
    WHERE datname = current_database() AND starts_with(application_name, ${applicationNamePrefix})`
  const sessions = new Set(rows.filter((r) => r.kind === "session").map((r) => r.value))
  return rows.filter((r) => r.kind === "runner").map((r) => ({
    address: r.value,
    heartbeatAgeMs: Number(r.age),
    hasSessions: sessions.has(applicationNameOf(r.value))
  }))
})

/** Deletes the row of a runner that still has no session (re-checked in the statement). */
const remove = (address: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ address: string }>`
      DELETE FROM cluster_runners r
      WHERE r.address = ${address} AND NOT EXISTS (
        SELECT 1 FROM pg_stat_activity a
        WHERE a.datname = current_database() AND a.application_name = ${applicationNameOf(address)}
      )
      RETURNING r.address`)

/** Ends the sessions a stalled runner opened before its last heartbeat, if that heartbeat is still too old. */
const fence = (address: string, stallAfterSeconds: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ ended: boolean }>`
      SELECT pg_terminate_backend(a.pid) AS ended
      FROM cluster_runners r
      JOIN pg_stat_activity a
        ON a.datname = current_database() AND a.application_name = ${applicationNameOf(address)}
      WHERE r.address = ${address}
        AND r.last_heartbeat < NOW() - make_interval(secs => ${stallAfterSeconds})
        AND a.backend_start < r.last_heartbeat`)

const reapOnce = (self: string, timings: ReapTimings) =>
  Effect.gen(function*() {
    const connections = yield* RunnerConnections
    const decision = decide(self, yield* look, timings)
    if (!decision.mayAct) return
    const cut = yield* connections.cutAllBut(decision.keep)
    if (cut.length > 0) yield* Effect.logInfo(`Cut the connections to runners no longer live: ${cut.join(", ")}`)
    for (const address of decision.dead) {
      if ((yield* remove(address)).length === 0) continue
      yield* Effect.logInfo(`Runner ${address} has no database session left: removed from the cluster`)
    }
    const stallAfter = stallAfterMs(timings)
    for (const address of decision.stalled) {
      if (!(yield* fence(address, stallAfter / 1000)).some((r) => r.ended)) continue
      yield* Effect.logWarning(
        `Runner ${address} missed its heartbeat for ${stallAfter} ms: its database sessions were ended to free its shards`
      )
    }
  })

/** Runs the reaper for the life of the node (multi-node only). */
export const layer = Layer.scopedDiscard(Effect.gen(function*() {
  const socket = yield* RunnerSocket
  if (Option.isNone(socket)) return
  const cluster = yield* ClusterConfig
  const self = `${socket.value.address.host}:${socket.value.address.port}`
  const expirationMs = Duration.toMillis(cluster.shardLockExpiration)
  const timings = { expirationMs, heartbeatMs: heartbeatInterval(expirationMs, Duration.toMillis(cluster.shardLockRefresh)) }
  yield* reapOnce(self, timings).pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("Runner reaper round failed", cause)),
    Effect.repeat(Schedule.spaced(cluster.runnerReapInterval)),
    Effect.annotateLogs({ module: "RunnerReaper" }),
    Effect.forkScoped
  )
}))
