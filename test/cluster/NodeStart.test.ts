/**
 * Node start-up on Postgres: ports from the OS, and a clean log.
 */
import { applicationNameOf } from "../../runtime/cluster/RunnerSocket.ts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { query, settledShards, waitUntil } from "../fixtures/ClusterHelpers.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

describe("two nodes starting together on a fresh database", () => {
  let db: TestDatabase
  let nodes: Array<NodeProcess> = []

  beforeAll(async () => {
    db = await makeTestDatabase()
    const started = await Promise.allSettled(
      ["s1", "s2"].map((name) => startNode({ name, databaseUrl: db.url, nodeArgs: ["--trace-deprecation"] }))
    )
    nodes = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []))
    for (const s of started) if (s.status === "rejected") throw s.reason
  }, 90_000)

  afterAll(async () => {
    try {
      await Promise.all(nodes.map((n) => n.stop()))
    } finally {
      await db?.drop()
    }
  }, 60_000)

  it("bind ports the OS chose (PORT=0, PLEXI_RUNNER_PORT=0), advertise the runner port they got and name their database sessions after it", async () => {
    for (const node of nodes) {
      expect(node.port).toBeGreaterThan(0)
      expect(node.runnerPort).toBeGreaterThan(0)
    }
    const rows = await query<{ address: string }>(db.url, "SELECT address FROM cluster_runners ORDER BY address")
    expect(rows.map((r) => r.address).sort()).toEqual(nodes.map((n) => `127.0.0.1:${n.runnerPort}`).sort())
    const sessions = await query<{ application_name: string }>(
      db.url,
      "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'plexi-runner %'"
    )
    expect(sessions.map((s) => s.application_name).sort()).toEqual(nodes.map((n) => applicationNameOf(`127.0.0.1:${n.runnerPort}`)).sort())
  })

  it("log no node-postgres DeprecationWarning while they take their shards and refresh their locks", async () => {
    await settledShards(nodes)
    // Several heartbeat rounds after the assignment settled: the lock refresh overlapped shard acquisition before.
    const first = await query<{ beat: Date }>(db.url, "SELECT min(last_heartbeat) AS beat FROM cluster_runners")
    await waitUntil("three more heartbeat rounds", async () => {
      const now = await query<{ beat: Date }>(db.url, "SELECT min(last_heartbeat) AS beat FROM cluster_runners")
      return now[0]!.beat.getTime() - first[0]!.beat.getTime() >= 3000
    })
    for (const node of nodes) expect(node.output()).not.toMatch(/DeprecationWarning/)
  }, 60_000)
})
