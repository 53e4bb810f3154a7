/**
 * `npm run bench`: PlexiChat's full path against a baseline, in the same run,
 * on the same machine; every scenario runs BENCH_ROUNDS times (default 3),
 * alternating PlexiChat and baseline, and prints min / median / max, the
 * ratio of the medians and PlexiChat's CPU per unit of work.
 *
 * Scenarios (BENCH_ONLY=<name>,<name>… runs a subset; default all):
 * - fanout          500 subscribers (distinct users) on one channel, 10 posters × 200 posts, relaxed limits:
 *                   server CPU per delivery (primary) and deliveries/s, vs bare uWS publish
 * - fanout-shipped  the same at the shipped rate limits
 * - ingest          (alias deepqueue) deep-queue ingest over 100 channels vs a 500-row batched INSERT
 * - manychannels    the same ingest over 10,000 active channels vs over 100, on one node; lock warnings counted
 * - latency         post → delivery at 2,000 msg/s on one channel, one node and across two (owner named)
 * - thin            2,000 msg/s over 1,000 channels, 50 subscribers, one node, vs bare uWS at the same shape
 * - thin3           the same across 3 nodes
 * - connections     RSS per authenticated, subscribed WebSocket (10,000), after a forced GC, vs bare uWS
 * - logins          password sign-ins/s at the shipped Argon2id cost, vs bare argon2 verifications at that cost
 * - backup          backup create and restore MiB/s of a generated workspace (BENCH_BACKUP_MB, default 1024) vs
 *                   raw AES-256-GCM and pg_dump / psql; the incremental after 1 % appended vs the full
 *
 * Servers run as their own processes; the load generator is this process.
 * Other knobs: BENCH_RATE (latency rate), BENCH_IN_FLIGHT, BENCH_FLUSHERS, BENCH_PROFILE=1, BENCH_BACKUP_MB,
 * BENCH_BACKUP_ROUNDS (docs/BENCHMARKS.md).
 */
import { setupRetries } from "./lib/BenchClients.ts"
import { stopEverything } from "./lib/Lifecycle.ts"
import { printResults, reportFailure } from "./lib/Results.ts"
import { rounds } from "./lib/Rounds.ts"
import { backupRounds, backups } from "./scenarios/Backups.ts"
import { connections } from "./scenarios/Connections.ts"
import { deepQueue } from "./scenarios/DeepQueue.ts"
import { fanOut } from "./scenarios/FanOut.ts"
import { latency } from "./scenarios/Latency.ts"
import { logins } from "./scenarios/Logins.ts"
import { manyChannels } from "./scenarios/ManyChannels.ts"
import { thinTraffic } from "./scenarios/ThinTraffic.ts"

const scenarios: ReadonlyArray<readonly [string, () => Promise<void>]> = [
  ["fanout", () => fanOut("relaxed")],
  ["fanout-shipped", () => fanOut("shipped")],
  ["ingest", deepQueue],
  ["manychannels", manyChannels],
  ["latency", latency],
  ["thin", () => thinTraffic(1)],
  ["thin3", () => thinTraffic(3)],
  ["connections", connections],
  ["logins", logins],
  ["backup", backups]
]
const aliases: Record<string, string> = { deepqueue: "ingest" }
const names = scenarios.map(([name]) => name)
const only = new Set((process.env.BENCH_ONLY ?? names.join(",")).split(",").map((s) => aliases[s.trim()] ?? s.trim()))
const unknown = [...only].filter((name) => !names.includes(name))
if (unknown.length > 0) {
  console.error(`unknown BENCH_ONLY scenario(s): ${unknown.join(", ")}; known: ${names.join(", ")}, deepqueue`)
  process.exit(2)
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping every node and dropping every database`)
    void stopEverything().finally(() => process.exit(130))
  })
}

const started = Date.now()
for (const [name, run] of scenarios) {
  if (!only.has(name)) continue
  const t = Date.now()
  console.error(`${name} (${name === "backup" ? backupRounds : rounds} rounds)…`)
  try {
    await run()
  } catch (error) {
    console.error(`${name} FAILED:`, error)
    reportFailure(name, error)
  }
  console.error(`${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s (set-up calls retried after a 503 so far: ${setupRetries()})`)
}
await stopEverything()

const failed = printResults(
  `PlexiChat benchmarks, ${new Date().toISOString()}, node ${process.version}, ${rounds} rounds, ` +
    `${((Date.now() - started) / 60_000).toFixed(1)} min (shared machine, 2 cores); set-up REST calls retried after a 503: ${setupRetries()}`
)
process.exit(failed > 0 ? 1 : 0)
