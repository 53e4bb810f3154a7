/**
 * `manychannels`: 10,000 channels on one node, created over REST (the bench
 * relaxes the REST budget), each activated by one post; then the deep-queue
 * ingest (8 sockets × 400 posts in flight, 6 s) spread over all 10,000,
 * alternating with the same ingest over 100 of them (the baseline) on the
 * same node. Target: no failed post, ≥ 0.5× the 100-channel rate, and no
 * shard-lock warning in the node's output (counted; one is a failure).
 */
import { createChannels, tokensOf } from "../lib/BenchClients.ts"
import { relaxedEnv } from "../lib/BenchEnv.ts"
import { ingest, touchAll } from "../lib/IngestLoad.ts"
import { withDatabase, withNodes } from "../lib/Lifecycle.ts"
import { lockWarnings } from "../lib/NodeLogs.ts"
import { report } from "../lib/Results.ts"
import { alternate, fmt3, median } from "../lib/Rounds.ts"

const CHANNELS = 10_000
const BASE_CHANNELS = 100
const SECONDS = 6

export const manyChannels = () =>
  withDatabase((db) =>
    withNodes([{ name: "many", databaseUrl: db.url, env: relaxedEnv }], async ([node]) => {
      const [token] = await tokensOf(node!.url, "many-", 1)
      const t = Date.now()
      const channels = await createChannels(node!.url, token!, CHANNELS, "many")
      console.error(`  ${CHANNELS} channels created in ${((Date.now() - t) / 1000).toFixed(1)} s`)
      await touchAll(node!, token!, channels)
      const options = { seconds: SECONDS, inFlight: Number(process.env.BENCH_IN_FLIGHT ?? 400) }
      const { plexi, baseline } = await alternate(
        () => ingest(node!, db.url, token!, channels, options),
        () => ingest(node!, db.url, token!, channels.slice(0, BASE_CHANNELS), options)
      )
      const warnings = lockWarnings(node!)
      for (const w of warnings.slice(0, 3)) console.error(`  lock warning: ${w.slice(0, 300)}`)
      const errors = [...plexi, ...baseline].reduce((n, r) => n + r.errors, 0)
      const ratio = median(plexi.map((r) => r.rate)) / median(baseline.map((r) => r.rate))
      report({
        scenario: `many channels: ingest over ${CHANNELS.toLocaleString("en-US")} active channels on one node (msg/s); ${errors} failed posts, ${warnings.length} lock warnings`,
        plexi: fmt3(plexi.map((r) => r.rate)),
        baseline: `${fmt3(baseline.map((r) => r.rate))} (the same over ${BASE_CHANNELS} channels)`,
        ratio: ratio.toFixed(2),
        cpu: `node ${fmt3(plexi.map((r) => r.nodeUsPerMsg), 1)} µs/msg (${BASE_CHANNELS} ch: ${fmt3(baseline.map((r) => r.nodeUsPerMsg), 1)}); PG ${fmt3(plexi.map((r) => r.pgUsPerMsg), 1)} µs/msg`,
        target: "no failed post, ≥ 0.5× the 100-channel rate, no lock warning",
        met: errors === 0 && warnings.length === 0 && ratio >= 0.5
      })
    }))
