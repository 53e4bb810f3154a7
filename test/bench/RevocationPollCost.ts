/**
 * What polling `plexi_revocations` costs: two idle nodes on one Postgres
 * database, their CPU (and their Postgres backends' CPU) over a window, with
 * the default poll interval and with polling practically off (1 minute).
 * Run by hand: `node --import tsx test/bench/RevocationPollCost.ts [seconds] [rounds]`
 * (not part of `npm run bench`). Prints ms of CPU per second per node.
 */
import { cpuWindow, pgBackendCpu } from "./lib/ProcessStats.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase } from "../fixtures/TestDatabase.ts"

const seconds = Number(process.argv[2] ?? 30)
const rounds = Number(process.argv[3] ?? 2)

const measure = async (interval: string) => {
  const db = await makeTestDatabase()
  const nodes: Array<NodeProcess> = []
  try {
    for (const name of ["p1", "p2"]) {
      nodes.push(await startNode({ name, databaseUrl: db.url, env: { PLEXI_AUTH_REVOCATION_POLL_INTERVAL: interval } }))
    }
    // Let start-up work (shard acquisition) settle before the window.
    await new Promise((r) => setTimeout(r, 8_000))
    const node = cpuWindow(nodes.map((n) => n.child.pid!))
    const backends = await pgBackendCpu(db.url)
    await new Promise((r) => setTimeout(r, seconds * 1000))
    const nodeMs = node.stop()
    const pgMs = await backends.stop()
    return { nodePerSec: nodeMs / nodes.length / seconds, pgPerSec: pgMs / nodes.length / seconds }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()))
    await db.drop()
  }
}

for (let round = 1; round <= rounds; round++) {
  for (const interval of ["250 millis", "1 minute"]) {
    const { nodePerSec, pgPerSec } = await measure(interval)
    console.log(`round ${round}, poll ${interval}: node ${nodePerSec.toFixed(2)} ms CPU/s, its Postgres backends ${pgPerSec.toFixed(2)} ms CPU/s`)
  }
}
