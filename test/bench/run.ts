/**
 * `npm run bench`: PlexiChat's full path against its baseline, in the same
 * run, on the same machine, printing both and their ratio.
 *
 * - fan-out:     500 subscribers on one channel, 2,000 posts through the
 *                full path, vs raw uWS `publish` (deliveries/s)
 * - ingest:      posts/s acknowledged after commit on one node over 100
 *                channels, vs a batched 500-row INSERT (rows/s)
 * - latency:     post → delivery p50/p99 at 2,000 msg/s, one node and across
 *                two nodes, vs raw uWS pub/sub
 * - connections: resident memory per idle WebSocket (10,000), vs raw uWS
 *
 * Servers run as their own processes; the load generator is this process.
 * Set BENCH_ONLY=fanout,ingest,latency,connections to run a subset.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import pg from "pg"
import WebSocket from "ws"
import { devToken, rest } from "../fixtures/Clients.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const root = resolve(import.meta.dirname, "../..")
const only = new Set((process.env.BENCH_ONLY ?? "fanout,ingest,latency,connections").split(","))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const results: Array<{ scenario: string; plexi: string; baseline: string; ratio: string; target: string; met: boolean }> = []

const benchEnv = {
  PLEXI_WS_RATE_LIMIT: "1000000",
  PLEXI_WS_RATE_BURST: "1000000",
  PLEXI_WS_MAX_BACKPRESSURE_BYTES: String(64 * 1024 * 1024),
  // The connections scenario opens 10,000 sockets from one address.
  PLEXI_WS_MAX_CONNECTIONS_PER_IP: "100000",
  PLEXI_API_RATE_BURST: "100000",
  ...(process.env.BENCH_FLUSHERS ? { PLEXI_COMMIT_FLUSHERS: process.env.BENCH_FLUSHERS } : {})
}

/** CPU time (user + system) a process has used, in ms (from /proc, clock ticks of 10 ms). */
const cpuMsOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 10
}

const rssOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024
}

/** A fresh database for `use`, dropped whatever happens. */
const withDatabase = async <A>(use: (db: TestDatabase) => Promise<A>): Promise<A> => {
  const db = await makeTestDatabase()
  try {
    return await use(db)
  } finally {
    await db.drop()
  }
}

/** Nodes started for `use` (all or none), stopped whatever happens. */
const withNodes = async <A>(starts: ReadonlyArray<() => Promise<NodeProcess>>, use: (nodes: Array<NodeProcess>) => Promise<A>) => {
  const settled = await Promise.allSettled(starts.map((start) => start()))
  const nodes = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []))
  try {
    const failed = settled.find((s) => s.status === "rejected")
    if (failed) throw failed.reason
    return await use(nodes)
  } finally {
    await Promise.all(nodes.map((n) => n.stop()))
  }
}

/** Waits until the nodes together own every shard (the assignment has settled). */
const settled = async (nodes: ReadonlyArray<NodeProcess>) => {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const shards = await Promise.all(nodes.map(async (n) => ((await (await fetch(`${n.url}/api/v1/health`)).json()) as { shards: number }).shards))
    if (shards.reduce((a, b) => a + b, 0) === 100 && shards.every((s) => s > 0)) return
    await sleep(100)
  }
  throw new Error("the shard assignment did not settle in 30 s")
}

const startRaw = async (): Promise<{ port: number; child: ChildProcess; stop: () => Promise<void> }> => {
  const child = spawn(process.execPath, ["--import", "tsx", "test/bench/RawUwsServer.ts", "0"], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"]
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (c: Buffer) => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(c.toString())
      if (m) resolve(Number(m[1]))
    })
    child.once("exit", () => reject(new Error("raw server exited")))
  })
  return {
    port,
    child,
    stop: async () => {
      child.kill("SIGTERM")
      await new Promise((r) => child.once("exit", r))
    }
  }
}

/** The raw uWS baseline server for `use`, stopped whatever happens. */
const withRaw = async <A>(use: (raw: Awaited<ReturnType<typeof startRaw>>) => Promise<A>): Promise<A> => {
  const raw = await startRaw()
  try {
    return await use(raw)
  } finally {
    await raw.stop()
  }
}

const open = (url: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    ws.once("open", () => resolve(ws))
    ws.once("error", reject)
  })

const openMany = async (url: string, n: number, batch = 250) => {
  const sockets: Array<WebSocket> = []
  for (let i = 0; i < n; i += batch) {
    sockets.push(...await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => open(url))))
  }
  return sockets
}

const waitFrame = (ws: WebSocket, predicate: (f: any) => boolean) =>
  new Promise<any>((resolve) => {
    const on = (data: WebSocket.RawData) => {
      const f = JSON.parse(data.toString())
      if (predicate(f)) {
        ws.off("message", on)
        resolve(f)
      }
    }
    ws.on("message", on)
  })

const percentile = (sorted: Array<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

const body = "x".repeat(64)

/** BENCH_PROFILE=1 writes a CPU profile of the PlexiChat node to .tmp/profiles/ for the scenario. */
const profileArgs = (name: string) =>
  process.env.BENCH_PROFILE === "1" ? ["--cpu-prof", `--cpu-prof-dir=${root}/.tmp/profiles/${name}`] : []

// ---------------------------------------------------------------- fan-out
const fanOut = async () => {
  const SUBS = 500
  const MESSAGES = 2000
  const total = SUBS * MESSAGES

  const measure = async (subscribers: Array<WebSocket>, publish: (i: number) => void) => {
    let received = 0
    const start = performance.now()
    const done = new Promise<number>((resolve) => {
      for (const ws of subscribers) {
        ws.on("message", () => {
          if (++received === total) resolve(performance.now())
        })
      }
    })
    for (let i = 0; i < MESSAGES; i++) publish(i)
    const end = await done
    return total / ((end - start) / 1000)
  }

  const rawRate = await withRaw(async (raw) => {
  const rawSubs = await openMany(`ws://127.0.0.1:${raw.port}/ws`, SUBS)
  // The publisher connects to /ws (subscribed, its own copies ignored): uWS batches that far better than a
  // publish-only route (~2M vs ~0.2M deliveries/s measured here), and the baseline should be raw uWS at its best.
  const rawPub = await open(`ws://127.0.0.1:${raw.port}/ws`)
  rawPub.on("message", () => {})
  const rate = await measure(rawSubs, (i) => rawPub.send(`{"type":"message","message":{"seq":${i},"body":"${body}"}}`))
  for (const ws of [...rawSubs, rawPub]) ws.terminate()
  return rate
  })

  const rate = await withDatabase((db) => withNodes([() => startNode({ databaseUrl: db.url, env: benchEnv })], async ([node]) => {
  const token = await devToken(node!.url, "bench")
  const channel = await rest(node!.url, token).createChannel("fanout")
  const subs = await openMany(`${node!.wsUrl}?token=${token}`, SUBS)
  await Promise.all(subs.map((ws) => {
    const subscribed = waitFrame(ws, (f) => f.type === "subscribed")
    ws.send(JSON.stringify({ type: "subscribe", channelId: channel.id }))
    return subscribed
  }))
  for (const ws of subs) ws.removeAllListeners("message")
  const poster = await open(`${node!.wsUrl}?token=${token}`)
  poster.on("message", () => {})
  const rate = await measure(subs, (i) =>
    poster.send(JSON.stringify({ type: "post", channelId: channel.id, clientMsgId: `f${i}`, body })))
  for (const ws of [...subs, poster]) ws.terminate()
  return rate
  }))

  results.push({
    scenario: `fan-out: ${SUBS} subscribers × ${MESSAGES} messages (deliveries/s)`,
    plexi: rate.toFixed(0),
    baseline: `${rawRate.toFixed(0)} (raw uWS publish)`,
    ratio: (rate / rawRate).toFixed(2),
    target: "≥ 0.5×",
    met: rate / rawRate >= 0.5
  })
}

// ---------------------------------------------------------------- ingest
const ingest = async () => {
  const CHANNELS = 100
  const CONNECTIONS = 8
  const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 400)
  const SECONDS = 6
  await withDatabase(async (db) => {

  // Baseline: 500-row multi-row INSERTs on one connection.
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  await client.query("CREATE TABLE bench_rows (channel_id text, seq bigint, author_id text, client_msg_id text, body text, created_at bigint, PRIMARY KEY (channel_id, seq))")
  let rows = 0
  const baseStart = performance.now()
  while (performance.now() - baseStart < 3000) {
    const values: Array<string> = []
    const params: Array<unknown> = []
    for (let i = 0; i < 500; i++, rows++) {
      const o = params.length
      values.push(`($${o + 1},$${o + 2},$${o + 3},$${o + 4},$${o + 5},$${o + 6})`)
      params.push(`c${rows % CHANNELS}`, rows, "bench", `k${rows}`, body, Date.now())
    }
    await client.query(`INSERT INTO bench_rows VALUES ${values.join(",")}`, params)
  }
  const baseRate = rows / ((performance.now() - baseStart) / 1000)
  await client.end()

  await withNodes([() => startNode({ databaseUrl: db.url, env: benchEnv, nodeArgs: profileArgs("ingest") })], async ([node]) => {
  if (node === undefined) throw new Error("no ingest node")
  const token = await devToken(node.url, "bench")
  const api = rest(node.url, token)
  const channels = await Promise.all(Array.from({ length: CHANNELS }, (_, i) => api.createChannel(`ingest-${i}`)))
  const sockets = await openMany(`${node.wsUrl}?token=${token}`, CONNECTIONS)
  let acked = 0
  let errors = 0
  let stopAt = 0
  let n = 0
  const start = performance.now()
  const cpuBefore = cpuMsOf(node.child.pid!)
  stopAt = start + SECONDS * 1000
  await Promise.all(sockets.map((ws, c) =>
    new Promise<void>((resolve) => {
      let inFlight = 0
      const send = () => {
        while (inFlight < IN_FLIGHT && performance.now() < stopAt) {
          const i = n++
          inFlight++
          ws.send(`{"type":"post","channelId":"${channels[(i + c) % CHANNELS]!.id}","clientMsgId":"i${i}","body":"${body}"}`)
        }
        if (inFlight === 0) resolve()
      }
      ws.on("message", (data) => {
        const s = data.toString()
        if (s.startsWith("{\"type\":\"ack\"")) acked++
        else if (s.startsWith("{\"type\":\"error\"")) errors++
        else return
        inFlight--
        send()
      })
      send()
    })
  ))
  const rate = acked / ((performance.now() - start) / 1000)
  // Throughput swings with the shared machine; the node's CPU per message does not.
  const cpuPerMessageUs = ((cpuMsOf(node.child.pid!) - cpuBefore) * 1000) / acked
  for (const ws of sockets) ws.terminate()
  results.push({
    scenario: `durable ingest: ${CHANNELS} channels, acked after commit (msg/s)${errors > 0 ? `, ${errors} errors` : ""}`,
    plexi: `${rate.toFixed(0)} (node CPU ${cpuPerMessageUs.toFixed(1)} µs/msg)`,
    baseline: `${baseRate.toFixed(0)} (500-row INSERT, rows/s)`,
    ratio: (rate / baseRate).toFixed(2),
    target: "≥ 20,000 msg/s",
    met: rate >= 20_000
  })
  })
  })
}

// ---------------------------------------------------------------- latency
const RATE = Number(process.env.BENCH_RATE ?? 2000)
const LAT_SECONDS = 5

/** Seconds at the target rate before measuring: a fresh node's first second is JIT warm-up, not steady state. */
const WARM_UP_SECONDS = 1

const paced = async (seconds: number, first: number, send: (i: number, sentAt: number) => void) => {
  const total = RATE * seconds
  const start = performance.now()
  let i = 0
  while (i < total) {
    const due = Math.floor(((performance.now() - start) / 1000) * RATE)
    while (i < Math.min(due, total)) send(first + i++, performance.now())
    await sleep(1)
  }
}

const latencyOf = async (subscriber: WebSocket, send: (i: number, sentAt: number) => void) => {
  const samples: Array<number> = []
  let measuring = false
  subscriber.on("message", (data) => {
    const m = /"body":"t(\d+(?:\.\d+)?)"/.exec(data.toString())
    if (m && measuring) samples.push(performance.now() - Number(m[1]))
  })
  await paced(WARM_UP_SECONDS, 0, send)
  await sleep(200)
  measuring = true
  await paced(LAT_SECONDS, RATE * WARM_UP_SECONDS, send)
  await sleep(1000)
  samples.sort((a, b) => a - b)
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), n: samples.length }
}

const latency = async () => {
  const rawLat = await withRaw(async (raw) => {
    const rawSub = await open(`ws://127.0.0.1:${raw.port}/ws`)
    const rawPub = await open(`ws://127.0.0.1:${raw.port}/pub`)
    const lat = await latencyOf(rawSub, (_i, t) => rawPub.send(`{"type":"message","message":{"body":"t${t}"}}`))
    rawSub.terminate()
    rawPub.terminate()
    return lat
  })

  const measureNodes = async (nodes: Array<NodeProcess>) => {
    const [pubNode, subNode] = [nodes[0]!, nodes[nodes.length - 1]!]
    const token = await devToken(pubNode.url, "bench")
    const channel = await rest(pubNode.url, token).createChannel("latency")
    const sub = await open(`${subNode.wsUrl}?token=${token}`)
    const subscribed = waitFrame(sub, (f) => f.type === "subscribed")
    sub.send(JSON.stringify({ type: "subscribe", channelId: channel.id }))
    await subscribed
    const pub = await open(`${pubNode.wsUrl}?token=${token}`)
    pub.on("message", () => {})
    const result = await latencyOf(sub, (i, t) =>
      pub.send(`{"type":"post","channelId":"${channel.id}","clientMsgId":"l${i}","body":"t${t}"}`))
    sub.terminate()
    pub.terminate()
    return result
  }

  const one = await withDatabase((db) => withNodes([() => startNode({ databaseUrl: db.url, env: benchEnv })], measureNodes))
  const cross = await withDatabase((db) =>
    withNodes(
      ["lat-a", "lat-b"].map((name) => () => startNode({ name, databaseUrl: db.url, env: benchEnv, nodeArgs: profileArgs(name) })),
      async (pair) => {
        await settled(pair)
        return measureNodes(pair)
      }
    ))

  const fmt = (l: { p50: number; p99: number }) => `p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms`
  results.push({
    scenario: `latency at ${RATE} msg/s, one node (post → delivery)`,
    plexi: fmt(one),
    baseline: `${fmt(rawLat)} (raw uWS)`,
    ratio: `p99 ${(one.p99 / rawLat.p99).toFixed(1)}×`,
    target: "p99 ≤ 25 ms",
    met: one.p99 <= 25
  })
  results.push({
    scenario: `latency at ${RATE} msg/s, across two nodes`,
    plexi: fmt(cross),
    baseline: `${fmt(rawLat)} (raw uWS)`,
    ratio: `p99 ${(cross.p99 / rawLat.p99).toFixed(1)}×`,
    target: "p99 ≤ 40 ms",
    met: cross.p99 <= 40
  })
}

// ---------------------------------------------------------------- connections
const connections = async () => {
  const N = 10_000
  const perConnection = async (pid: number, url: string) => {
    await sleep(1000)
    const before = rssOf(pid)
    const sockets = await openMany(url, N, 500)
    await sleep(3000)
    const after = rssOf(pid)
    for (const ws of sockets) ws.terminate()
    return (after - before) / N
  }
  const rawBytes = await withRaw((raw) => perConnection(raw.child.pid!, `ws://127.0.0.1:${raw.port}/ws`))

  const bytes = await withNodes([() => startNode({ env: benchEnv })], async ([node]) => {
    const token = await devToken(node!.url, "bench")
    // Warm up the code paths once so that JIT and first-use allocations are not counted.
    const warm = await openMany(`${node!.wsUrl}?token=${token}`, 200)
    for (const ws of warm) ws.terminate()
    return perConnection(node!.child.pid!, `${node!.wsUrl}?token=${token}`)
  })
  results.push({
    scenario: `memory per idle WebSocket, ${N} connections (bytes)`,
    plexi: bytes.toFixed(0),
    baseline: `${rawBytes.toFixed(0)} (raw uWS)`,
    ratio: (bytes / rawBytes).toFixed(2),
    target: "≤ 4096 bytes",
    met: bytes <= 4096
  })
}

const scenarios: Array<[string, () => Promise<void>]> = [
  ["fanout", fanOut],
  ["ingest", ingest],
  ["latency", latency],
  ["connections", connections]
]
for (const [name, run] of scenarios) {
  if (!only.has(name)) continue
  const started = Date.now()
  await run()
  console.error(`${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

console.log(`\nPlexiChat benchmarks, ${new Date().toISOString()}, node ${process.version}\n`)
console.log("| scenario | PlexiChat | baseline (same run) | ratio | target | met |")
console.log("|---|---|---|---|---|---|")
for (const r of results) console.log(`| ${r.scenario} | ${r.plexi} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met ? "yes" : "no"} |`)
process.exit(0)
