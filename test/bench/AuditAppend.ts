/**
 * What the audit log and the role checks cost (docs/SECURITY.md, "Audit
 * log" and "Roles"), in process on a fresh database of the real Postgres:
 * - `WorkspaceRoles.roleOf` from its cache and from the database;
 * - queued appends (`record`, batched by the writer) per second, from one
 *   and from two audit logs at once (two nodes' writers contending for the
 *   chain's head row), and awaited single appends (`write`);
 * then verifies the chain.
 *
 *   flock /tmp/plexi-bench.lock node --import tsx test/bench/AuditAppend.ts
 */
import { ShardingConfig } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Redacted } from "effect"
import type { UserId } from "../../domain/Ids.ts"
import { layerPostgres } from "../../runtime/sql/Database.ts"
import { migrate } from "../../runtime/sql/Migrations.ts"
import { AuditLog } from "../../src/audit/AuditLog.ts"
import { verify } from "../../src/audit/AuditVerify.ts"
import { WorkspaceRoles } from "../../src/roles/WorkspaceRoles.ts"
import { makeTestDatabase } from "../fixtures/TestDatabase.ts"

const timed = <A, E, R>(label: string, n: number, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const result = yield* effect
    const ms = performance.now() - start
    console.log(`${label}: ${n} in ${ms.toFixed(0)} ms = ${(n / (ms / 1000)).toFixed(0)}/s, ${((ms * 1000) / n).toFixed(1)} us each`)
    return result
  })

const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`INSERT INTO plexi_accounts (user_id, username, password_hash, role, created_at, password_changed_at)
    SELECT 'u' || i, 'user' || i, 'x', 'member', 0, 0 FROM generate_series(1, 1000) AS i`
  const cached = yield* Effect.provide(WorkspaceRoles, WorkspaceRoles.layer())
  const uncached = yield* Effect.provide(WorkspaceRoles, WorkspaceRoles.layer(0))
  const ids = Array.from({ length: 1000 }, (_, i) => `u${i + 1}` as UserId)
  yield* Effect.forEach(ids, cached.roleOf)
  yield* timed("roleOf, cached", 100_000, Effect.forEach(Array.from({ length: 100_000 }, (_, i) => ids[i % 1000]!), cached.roleOf, { discard: true }))
  yield* timed("roleOf, from Postgres", 1000, Effect.forEach(ids, uncached.roleOf, { discard: true }))

  const logOf = (node: string) => Effect.map(Layer.build(AuditLog.layer(node)), (context) => Context.get(context, AuditLog))
  const logs = yield* Effect.all([logOf("node-a"), logOf("node-b")])
  const event = (i: number) => ({ actor: `u${i % 1000}`, action: "channel.post.denied", target: "c_bench", ip: "10.0.0.1", details: { error: "NotAMember" } })
  // Bursts of 5,000 (half the queue), each flushed: the writer's batches of up to 500 rows.
  const burst = (log: AuditLog["Type"], n: number) =>
    Effect.zipRight(Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) => log.record(event(i)), { discard: true }), log.flush)
  yield* timed("record + flush, one node", 20_000, Effect.repeatN(burst(logs[0], 5000), 3))
  yield* timed("record + flush, two nodes at once", 20_000, Effect.all([Effect.repeatN(burst(logs[0], 5000), 1), Effect.repeatN(burst(logs[1], 5000), 1)], { concurrency: 2 }))
  yield* timed("write (awaited, one at a time)", 500, Effect.forEach(Array.from({ length: 500 }, (_, i) => i), (i) => logs[0].write(event(i)), { discard: true }))
  yield* timed("write, 16 at once from two nodes", 1000, Effect.forEach(Array.from({ length: 1000 }, (_, i) => i), (i) => logs[i % 2]!.write(event(i)), { concurrency: 16, discard: true }))
  const verdict = yield* timed("verify", 41_500, verify(sql))
  console.log(verdict)
})

const main = async () => {
  const db = await makeTestDatabase()
  if (db.kind !== "postgres") throw new Error("needs the real Postgres at PLEXI_TEST_DATABASE_URL or 127.0.0.1:5432")
  try {
    const sql = Layer.effectDiscard(migrate({ runnerTables: false, lock: false })).pipe(
      Layer.provide(ShardingConfig.layer()),
      Layer.provideMerge(layerPostgres(Redacted.make(db.url)))
    )
    await Effect.runPromise(Effect.scoped(Effect.provide(program, sql)))
  } finally {
    await db.drop()
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
