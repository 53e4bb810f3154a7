/**
 * Node start-up on Postgres: ports from the OS, and a clean log.
 */
import { applicationNameOf } from "../../runtime/cluster/RunnerSocket.ts"
import { describe, expect, it } from "vitest"
import { query, settledShards, waitUntil } from "../fixtures/ClusterHelpers.ts"
import { clusterForSuite } from "../fixtures/ClusterSuite.ts"

describe("two nodes starting together on a fresh database", () => {
  const cluster = clusterForSuite({ prefix: "s", size: 2, settle: false, node: { nodeArgs: ["--trace-deprecation"] } })

  it("bind ports the OS chose (PORT=0, PLEXI_RUNNER_PORT=0), advertise the runner port they got and name their database sessions after it", async () => {
    for (const node of cluster.nodes) {
      expect(node.port).toBeGreaterThan(0)
      expect(node.runnerPort).toBeGreaterThan(0)
    }
    const rows = await query<{ address: string }>(cluster.url, "SELECT address FROM cluster_runners ORDER BY address")
    expect(rows.map((r) => r.address).sort()).toEqual(cluster.nodes.map((n) => `127.0.0.1:${n.runnerPort}`).sort())
    const sessions = await query<{ application_name: string }>(
      cluster.url,
      "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'plexi-runner %'"
    )
    expect(sessions.map((s) => s.application_name).sort()).toEqual(cluster.nodes.map((n) => applicationNameOf(`127.0.0.1:${n.runnerPort}`)).sort())
  })

  it("log no node-postgres DeprecationWarning while they take their shards and refresh their locks", async () => {
    await settledShards(cluster.nodes)
    // Several heartbeat rounds after the assignment settled: the lock refresh overlapped shard acquisition before.
    const first = await query<{ beat: Date }>(cluster.url, "SELECT min(last_heartbeat) AS beat FROM cluster_runners")
    await waitUntil("three more heartbeat rounds", async () => {
      const now = await query<{ beat: Date }>(cluster.url, "SELECT min(last_heartbeat) AS beat FROM cluster_runners")
      return now[0]!.beat.getTime() - first[0]!.beat.getTime() >= 3000
    })
    for (const node of cluster.nodes) expect(node.output()).not.toMatch(/DeprecationWarning/)
  }, 60_000)
})
