/**
 * `ingest` (alias `deepqueue`): durable ingest over 100 channels on one node,
 * 8 sockets × 400 posts in flight for 6 s, acked after commit; baseline: the
 * same run's 500-row batched INSERT rate into the same database. Target:
 * ≥ 0.5× the INSERT rate at ≤ 25 µs of node CPU per message.
 */
import { createChannels, tokensOf } from "../lib/BenchClients.ts"
import { relaxedEnv } from "../lib/BenchEnv.ts"
import { ingest, touchAll } from "../lib/IngestLoad.ts"
import { batchedInsert } from "../lib/InsertBaseline.ts"
import { withDatabase, withNodes } from "../lib/Lifecycle.ts"
import { report } from "../lib/Results.ts"
import { alternate, fmt3, median } from "../lib/Rounds.ts"

const CHANNELS = 100
const SECONDS = 6

export const deepQueue = () =>
  withDatabase((db) =>
    withNodes([{ name: "ingest", databaseUrl: db.url, env: relaxedEnv }], async ([node]) => {
      const [token] = await tokensOf(node!.url, "ingest-", 1)
      const { plexi, baseline } = await alternate(
        async (round) => {
          const channels = await createChannels(node!.url, token!, CHANNELS, `ingest-r${round}`)
          await touchAll(node!, token!, channels)
          return ingest(node!, db.url, token!, channels, { seconds: SECONDS, inFlight: Number(process.env.BENCH_IN_FLIGHT ?? 400) })
        },
        () => batchedInsert(db.url, CHANNELS, 3)
      )
      const errors = plexi.reduce((n, r) => n + r.errors, 0)
      const rate = median(plexi.map((r) => r.rate))
      const base = median(baseline.map((r) => r.rate))
      const cpu = median(plexi.map((r) => r.nodeUsPerMsg))
      report({
        scenario: `deep queue: ingest over ${CHANNELS} channels, acked after commit (msg/s)${errors > 0 ? `, ${errors} failed posts` : ""}`,
        plexi: fmt3(plexi.map((r) => r.rate)),
        baseline: `${fmt3(baseline.map((r) => r.rate))} (500-row INSERT, rows/s; PG ${fmt3(baseline.map((r) => r.pgUsPerRow), 1)} µs/row)`,
        ratio: (rate / base).toFixed(2),
        cpu: `node ${fmt3(plexi.map((r) => r.nodeUsPerMsg), 1)} µs/msg; PG ${fmt3(plexi.map((r) => r.pgUsPerMsg), 1)} µs/msg`,
        target: "≥ 0.5× INSERT rate at ≤ 25 µs node CPU/msg",
        met: errors === 0 && rate / base >= 0.5 && cpu <= 25
      })
    }))
