/**
 * Memory and start time of one node (`npm start`'s entry, the compiled
 * `node dist/runtime/main.js`; `npm run build` first) on the embedded PGlite store, against
 * the same node on real Postgres as its baseline, in the same run:
 *
 *   flock /tmp/plexi-bench.lock node --import tsx test/bench/EmbeddedNode.ts
 *
 * Each round starts, in turn: the embedded node in a fresh temporary data
 * directory (`fresh`: initdb on first start), the same node again on that
 * directory (`existing`), and a node on a fresh Postgres database
 * (`postgres`, at `PLEXI_TEST_DATABASE_URL` or 127.0.0.1:5432). For each it
 * records the time from spawn to the first healthy `GET /api/v1/health` and
 * the CPU time the process used until then (with its children: initdb),
 * idles `IDLE_MS` (5,000), reads VmRSS from /proc, forces a full GC through
 * the inspector (`HeapProfiler.collectGarbage`), and reads VmRSS and the V8
 * heap again. `ROUNDS` (3) alternating rounds; prints min/median/max.
 * Every process is stopped and every temporary directory and database is
 * removed in a `finally`, also on failure or Ctrl-C.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import pg from "pg"
import WebSocket from "ws"

const root = resolve(import.meta.dirname, "../..")
/** The node's entry: compiled, as `npm start` runs it; BENCH_ENTRY=tsx runs the sources through tsx instead. */
const entry = process.env.BENCH_ENTRY === "tsx" ? ["--import", "tsx", "runtime/main.ts"] : ["dist/runtime/main.js"]
const rounds = Number(process.env.ROUNDS ?? 3)
const idleMs = Number(process.env.IDLE_MS ?? 5000)
const adminUrl = process.env.PLEXI_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const children = new Set<ChildProcess>()
const dirs = new Set<string>()
const databases = new Set<string>()

const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  dirs.add(dir)
  return dir
}

const rssMiB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return m ? Number(m[1]) / 1024 : Number.NaN
}

/** CPU time (user + system, with waited-for children such as PGlite's initdb) a process has used, in ms. */
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  // utime, stime, cutime, cstime are fields 14-17 of stat(5); fields[0] is field 3. Clock ticks of 10 ms.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) * 10
}

const exited = (child: ChildProcess) =>
  new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done()
    child.once("exit", () => done())
  })

const stop = async (child: ChildProcess) => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
    await exited(child)
    clearTimeout(timer)
  }
  children.delete(child)
}

/** One call over the inspector's WebSocket (Chrome DevTools Protocol). */
const inspect = (url: string, calls: ReadonlyArray<{ method: string; params?: object }>) =>
  new Promise<Array<any>>((done, fail) => {
    const socket = new WebSocket(url)
    const results: Array<any> = []
    socket.on("error", fail)
    socket.on("open", () => socket.send(JSON.stringify({ id: 0, ...calls[0] })))
    socket.on("message", (data) => {
      const reply = JSON.parse(String(data))
      if (typeof reply.id !== "number") return
      results.push(reply.result)
      if (reply.id + 1 < calls.length) socket.send(JSON.stringify({ id: reply.id + 1, ...calls[reply.id + 1] }))
      else {
        socket.close()
        done(results)
      }
    })
  })

interface Sample {
  readonly healthyMs: number
  readonly startCpuMs: number
  readonly rssIdle: number
  readonly rssAfterGc: number
  readonly heapUsed: number
}

/** Starts the node, waits for health, idles, measures, stops it. */
const measure = async (env: Record<string, string>): Promise<Sample> => {
  const portFile = join(tempDir("plexi-bench-ports-"), "ports.json")
  const started = performance.now()
  const child = spawn(process.execPath, ["--inspect=127.0.0.1:0", ...entry], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      PORT: "0",
      PLEXI_HOST: "127.0.0.1",
      PLEXI_RUNNER_HOST: "127.0.0.1",
      PLEXI_RUNNER_LISTEN_HOST: "127.0.0.1",
      PLEXI_RUNNER_PORT: "0",
      PLEXI_PORT_FILE: portFile,
      PLEXI_AUTH_SIGNING_KEYS: "bench-1=bench-signing-secret-of-at-least-32-characters",
      PLEXI_LOG_LEVEL: "Warn",
      ...env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  children.add(child)
  let output = ""
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()))
  try {
    let port: number | undefined
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`node exited before healthy:\n${output}`)
      if (performance.now() - started > 120_000) throw new Error(`node not healthy in 120 s:\n${output}`)
      if (port === undefined && existsSync(portFile)) port = JSON.parse(readFileSync(portFile, "utf8")).port
      if (port !== undefined) {
        const ok = await fetch(`http://127.0.0.1:${port}/api/v1/health`).then((r) => r.ok, () => false)
        if (ok) break
      }
      await sleep(10)
    }
    const healthyMs = performance.now() - started
    const startCpuMs = cpuMs(child.pid!)
    await sleep(idleMs)
    const rssIdle = rssMiB(child.pid!)
    const url = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(output)?.[0]
    if (url === undefined) throw new Error(`no inspector URL in the output:\n${output}`)
    const [, , evaluated] = await inspect(url, [
      { method: "HeapProfiler.collectGarbage" },
      { method: "HeapProfiler.collectGarbage" },
      { method: "Runtime.evaluate", params: { expression: "process.memoryUsage().heapUsed", returnByValue: true } }
    ])
    await sleep(200)
    return { healthyMs, startCpuMs, rssIdle, rssAfterGc: rssMiB(child.pid!), heapUsed: evaluated.result.value / 1048576 }
  } finally {
    await stop(child)
  }
}

const admin = async <A>(f: (client: pg.Client) => Promise<A>) => {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}

const postgresNode = async () => {
  const name = `plexi_bench_${randomBytes(6).toString("hex")}`
  await admin((c) => c.query(`CREATE DATABASE ${name}`))
  databases.add(name)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  try {
    return await measure({ DATABASE_URL: url.toString() })
  } finally {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    databases.delete(name)
  }
}

const cleanUp = async () => {
  for (const child of children) await stop(child)
  for (const name of databases) {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch((e) => console.error(e))
    databases.delete(name)
  }
  for (const dir of dirs) {
    rmSync(dir, { recursive: true, force: true })
    dirs.delete(dir)
  }
}

const stats = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s.at(-1)! }
}

const row = (label: string, samples: ReadonlyArray<Sample>, key: keyof Sample, unit: string) => {
  const { min, median, max } = stats(samples.map((s) => s[key]))
  const f = (n: number) => (unit === "ms" ? n.toFixed(0) : n.toFixed(1))
  return `| ${label} | ${key} | ${f(min)} | ${f(median)} | ${f(max)} | ${unit} |`
}

const main = async () => {
  const samples: Record<"fresh" | "existing" | "postgres", Array<Sample>> = { fresh: [], existing: [], postgres: [] }
  for (let round = 1; round <= rounds; round++) {
    // Alternate which store goes first, so that neither always gets the warmer machine.
    const embedded = async () => {
      const dataDir = tempDir("plexi-bench-data-")
      samples.fresh.push(await measure({ PLEXI_DATA_DIR: dataDir }))
      samples.existing.push(await measure({ PLEXI_DATA_DIR: dataDir }))
    }
    const postgres = async () => void samples.postgres.push(await postgresNode())
    for (const step of round % 2 === 1 ? [embedded, postgres] : [postgres, embedded]) await step()
    console.error(`round ${round}/${rounds}:`, JSON.stringify({
      fresh: samples.fresh.at(-1),
      existing: samples.existing.at(-1),
      postgres: samples.postgres.at(-1)
    }, (_, v) => (typeof v === "number" ? Math.round(v) : v)))
  }
  console.log(`\nEmbedded node vs Postgres node, ${rounds} rounds, idle ${idleMs} ms before measuring\n`)
  console.log("| store | measure | min | median | max | unit |\n|---|---|---|---|---|---|")
  for (const [label, list] of Object.entries(samples)) {
    console.log(row(label, list, "healthyMs", "ms"))
    console.log(row(label, list, "startCpuMs", "ms"))
    console.log(row(label, list, "rssIdle", "MiB"))
    console.log(row(label, list, "rssAfterGc", "MiB"))
    console.log(row(label, list, "heapUsed", "MiB"))
  }
}

process.once("SIGINT", () => void cleanUp().then(() => process.exit(130)))
try {
  await main()
} finally {
  await cleanUp()
}
