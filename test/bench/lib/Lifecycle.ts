/**
 * Every process and database a bench run starts, and their end. Each `with*`
 * stops or drops what it started in a `finally` (also when the scenario
 * fails), and `stopEverything` ends whatever is still registered when the run
 * is interrupted. Ports come from the OS: nodes and the bare uWS server bind
 * port 0 and report the port they got.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { resolve } from "node:path"
import { buildOnce, type NodeProcess, type StartOptions, startNode } from "../../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../../fixtures/TestDatabase.ts"

const root = resolve(import.meta.dirname, "../../..")
const live = new Set<() => Promise<void>>()

const track = async <R extends { readonly stop: () => Promise<void> }, A>(resource: R, use: (r: R) => Promise<A>) => {
  live.add(resource.stop)
  try {
    return await use(resource)
  } finally {
    live.delete(resource.stop)
    await resource.stop()
  }
}

/** Stops every node and server and drops every database still registered (on SIGINT / SIGTERM). */
export const stopEverything = async () => {
  const stops = [...live]
  live.clear()
  await Promise.allSettled(stops.map((stop) => stop()))
}

/** Node flags of every measured server: a forced GC on SIGUSR2 (see gc-hook.mjs). */
export const serverArgs = ["--expose-gc", "--import", `${root}/test/bench/lib/gc-hook.mjs`]

/**
 * Measured nodes run what `npm start` runs, the compiled `dist/` (built once per run), not the sources through tsx
 * (its loader and source maps cost CPU of their own); BENCH_SOURCES=1 runs the sources.
 */
const compiled = process.env.BENCH_SOURCES !== "1"

/** BENCH_PROFILE=1 writes a CPU profile of each PlexiChat node to .tmp/profiles/<name>/. */
const profileArgs = (name: string) =>
  process.env.BENCH_PROFILE === "1" ? ["--cpu-prof", `--cpu-prof-dir=${root}/.tmp/profiles/${name}`] : []

/** BENCH_LOGS=1 keeps each node's output in .tmp/logs/<name>.log once it stopped. */
const saveLogs = (options: ReadonlyArray<StartOptions>, nodes: ReadonlyArray<NodeProcess | undefined>) => {
  if (process.env.BENCH_LOGS !== "1") return
  mkdirSync(`${root}/.tmp/logs`, { recursive: true })
  nodes.forEach((n, i) => n && writeFileSync(`${root}/.tmp/logs/${options[i]!.name ?? `node-${i}`}.log`, n.output()))
}

/** BENCH_NODE_ARGS="--flag --flag" adds Node flags to every PlexiChat node (e.g. an `--import` that reports event-loop lag). */
const extraArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a.length > 0)

/** A fresh database for `use`, dropped whatever happens. */
export const withDatabase = async <A>(use: (db: TestDatabase) => Promise<A>): Promise<A> => {
  const db = await makeTestDatabase()
  if (db.kind !== "postgres") {
    await db.drop()
    throw new Error("the bench needs the real Postgres at 127.0.0.1:5432 (or PLEXI_TEST_DATABASE_URL)")
  }
  return track({ ...db, stop: db.drop }, use)
}

/** Nodes started for `use` (all, or none is left running), stopped whatever happens. */
export const withNodes = async <A>(options: ReadonlyArray<StartOptions>, use: (nodes: Array<NodeProcess>) => Promise<A>) => {
  const nodes: Array<NodeProcess | undefined> = options.map(() => undefined)
  const stopAll = () => Promise.all(nodes.map((n) => n?.stop())).then(() => saveLogs(options, nodes))
  live.add(stopAll)
  try {
    if (compiled) buildOnce()
    const outcomes = await Promise.allSettled(options.map((o, i) =>
      startNode({ compiled, ...o, nodeArgs: [...serverArgs, ...profileArgs(o.name ?? "node"), ...extraArgs, ...(o.nodeArgs ?? [])] }).then((n) => {
        nodes[i] = n
      })
    ))
    const failed = outcomes.find((s) => s.status === "rejected")
    if (failed) throw failed.reason
    const started = nodes.map((n) => n!)
    // Nodes of one database form a cluster: measure only once the shards are assigned (a user or channel call
    // before that answers 503).
    for (const url of new Set(options.flatMap((o) => (o.databaseUrl === undefined ? [] : [o.databaseUrl])))) {
      await settled(started.filter((_, i) => options[i]!.databaseUrl === url))
    }
    return await use(started)
  } finally {
    live.delete(stopAll)
    await stopAll()
  }
}

export interface RawServer {
  readonly port: number
  readonly child: ChildProcess
  readonly output: () => string
  readonly stop: () => Promise<void>
}

const startRaw = async (): Promise<RawServer> => {
  const child = spawn(process.execPath, [...serverArgs, "--import", "tsx", "test/bench/RawUwsServer.ts", "0"], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"]
  })
  let output = ""
  child.stdout!.on("data", (c: Buffer) => {
    output += c.toString()
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill("SIGTERM")
    await new Promise((r) => child.once("exit", r))
  }
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("raw uWS server did not listen in 20 s")), 20_000)
      child.stdout!.on("data", () => {
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
        if (m) {
          clearTimeout(timer)
          resolve(Number(m[1]))
        }
      })
      child.once("exit", () => reject(new Error("raw uWS server exited")))
    })
    return { port, child, output: () => output, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** The bare uWS baseline server for `use`, stopped whatever happens. */
export const withRaw = async <A>(use: (raw: RawServer) => Promise<A>): Promise<A> => track(await startRaw(), use)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits until the nodes together own every shard and each owns some (the assignment has settled). */
export const settled = async (nodes: ReadonlyArray<NodeProcess>, shards = 100) => {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const owned = await Promise.all(nodes.map(async (n) => ((await (await fetch(`${n.url}/api/v1/health`)).json()) as { shards: number }).shards))
    if (owned.reduce((a, b) => a + b, 0) === shards && owned.every((s) => s > 0)) return
    await sleep(100)
  }
  throw new Error("the shard assignment did not settle in 30 s")
}

/** The node that owns the channel's shard now (asked of every node). */
export const ownerOf = async (nodes: ReadonlyArray<NodeProcess>, channelId: string) => {
  for (const n of nodes) {
    const located = (await (await fetch(`${n.url}/api/v1/cluster/channels/${channelId}`)).json()) as { ownedHere: boolean }
    if (located.ownedHere) return n
  }
  return undefined
}

/** RSS of a measured server right after a forced full GC in it (gc-hook.mjs prints it). */
export const rssAfterGc = async (server: { readonly child: ChildProcess; readonly output: () => string }) =>
  (await memoryAfterGc(server)).rss

/** The server's resident memory and live JS heap (bytes) after a forced full GC. */
export const memoryAfterGc = async (server: { readonly child: ChildProcess; readonly output: () => string }) => {
  const last = () => {
    const all = [...server.output().matchAll(/\[bench-gc\] (\d+) rss=(\d+)(?: heap=(\d+))?/g)]
    const m = all[all.length - 1]
    return m === undefined ? { n: 0, rss: 0, heap: 0 } : { n: Number(m[1]), rss: Number(m[2]), heap: Number(m[3] ?? 0) }
  }
  const before = last().n
  server.child.kill("SIGUSR2")
  const deadline = Date.now() + 10_000
  while (last().n === before) {
    if (Date.now() > deadline) throw new Error("the server did not answer the forced GC")
    await sleep(20)
  }
  const { heap, rss } = last()
  return { heap, rss }
}
