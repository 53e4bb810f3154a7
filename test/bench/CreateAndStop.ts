/**
 * Channel creation over REST and the graceful stop of a node whose channels
 * are all followed, on one node on the real Postgres (not part of the suite):
 *
 *   flock /tmp/plexi-bench.lock node --import tsx test/bench/CreateAndStop.ts
 *
 * 1. N (1,000) channels created over REST by one user, first with 2 in flight,
 *    then another N with 16 in flight: wall time and the node's CPU per
 *    creation (/proc/PID/stat).
 * 2. Every one of the first N channels followed by a WebSocket subscriber
 *    (SOCKETS sockets of distinct users, the channels spread over them), then
 *    SIGTERM: the time until the process exits, and how the sockets were
 *    closed.
 *
 * BENCH_PROFILE=1 writes CPU profiles to .tmp/profiles/create/; BENCH_LOG_SQL=1
 * has Postgres log every statement of the node's sessions (the server log,
 * lines naming the run's database) to count round trips per creation;
 * BENCH_NODE_LOG=<file> writes the node's output there.
 */
import { writeFileSync } from "node:fs"
import pg from "pg"
import type WebSocket from "ws"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest } from "../fixtures/Clients.ts"
import { inPool, openAll, subscribe } from "./lib/BenchClients.ts"
import { relaxedEnv } from "./lib/BenchEnv.ts"
import { withDatabase, withNodes } from "./lib/Lifecycle.ts"
import { cpuWindow } from "./lib/ProcessStats.ts"

const n = Number(process.env.N ?? 1000)
const sockets = Number(process.env.SOCKETS ?? 50)

const createRound = async (url: string, token: string, inFlight: number, label: string) => {
  const api = rest(url, token)
  const started = Date.now()
  const ids = await inPool(Array.from({ length: n }, (_, i) => i), inFlight, async (i) => (await api.createChannel(`${label}-${i}`)).id)
  return { ids, ms: Date.now() - started }
}

/** Every statement of the database's later sessions in the server log (on this database only). */
const logStatements = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`ALTER DATABASE ${new URL(url).pathname.slice(1)} SET log_min_duration_statement = 0`)
  } finally {
    await client.end()
  }
}

await withDatabase(async (db) => {
  if (process.env.BENCH_LOG_SQL === "1") await logStatements(db.url)
  return withNodes([{ name: "create", databaseUrl: db.url, env: relaxedEnv }], async ([node]) => {
    const pid = node!.child.pid!
    const { token } = await signedIn(node!.url, "creator")
    const results: Array<string> = []
    let first: ReadonlyArray<string> = []
    for (const inFlight of [2, 16]) {
      const cpu = cpuWindow([pid])
      const { ids, ms } = await createRound(node!.url, token, inFlight, `c${inFlight}`)
      const cpuMs = cpu.stop()
      if (first.length === 0) first = ids
      results.push(
        `create ${n} channels, ${inFlight} in flight: ${(ms / 1000).toFixed(1)} s (${(ms / n).toFixed(1)} ms each, ` +
          `${Math.round((n * 1000) / ms)}/s), node CPU ${(cpuMs * 1000 / n).toFixed(0)} µs per creation`
      )
      console.log(results[results.length - 1])
    }

    const tokens = await inPool(Array.from({ length: sockets }, (_, i) => `follower${i}`), 16, async (u) => (await signedIn(node!.url, u)).token)
    const ws: Array<WebSocket> = await openAll(tokens.map((t) => `${node!.wsUrl}?token=${t}`))
    const followed = Date.now()
    await Promise.all(ws.map((s, i) => subscribe(s, first.filter((_, c) => c % sockets === i))))
    results.push(`${first.length} channels followed by ${sockets} sockets in ${((Date.now() - followed) / 1000).toFixed(1)} s`)
    console.log(results[results.length - 1])

    const closes = new Map<number, number>()
    for (const s of ws) s.on("close", (code) => closes.set(code, (closes.get(code) ?? 0) + 1))
    const exited = new Promise<void>((resolve) => node!.child.once("exit", () => resolve()))
    const stopping = Date.now()
    node!.child.kill("SIGTERM")
    const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 180_000).unref())
    const outcome = await Promise.race([exited.then(() => "exited" as const), timeout])
    const stopMs = Date.now() - stopping
    results.push(
      `SIGTERM with ${first.length} followed channels: ${outcome} after ${(stopMs / 1000).toFixed(1)} s, ` +
        `exit code ${node!.child.exitCode ?? node!.child.signalCode}; socket closes ${JSON.stringify(Object.fromEntries(closes))}`
    )
    console.log(results[results.length - 1])
    for (const s of ws) s.terminate()
    if (process.env.BENCH_NODE_LOG) writeFileSync(process.env.BENCH_NODE_LOG, node!.output())
    console.log(`\n${results.join("\n")}`)
  })
})
process.exit(0)
