/**
 * CPU and memory of the processes a benchmark measures, read from /proc (the
 * servers and Postgres run on this machine). CPU is user + system time in
 * clock ticks of 10 ms, so a figure is only as exact as ±10 ms over its window.
 */
import { readFileSync } from "node:fs"
import pg from "pg"

const TICK_MS = 10

/** CPU time (user + system) the process has used so far, in ms; 0 when it is gone. */
export const cpuMsOf = (pid: number): number => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return 0
  }
}

/** CPU ms used by a set of processes from now until `stop()` is called. */
export const cpuWindow = (pids: ReadonlyArray<number>) => {
  const before = pids.map(cpuMsOf)
  return { stop: () => pids.reduce((sum, pid, i) => sum + cpuMsOf(pid) - before[i]!, 0) }
}

export const rssOf = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024
}

/**
 * CPU ms used by the Postgres backends of one database (every session of the
 * node under test, found in `pg_stat_activity`) from now until `stop()`.
 * Backends are re-listed every 200 ms, so one that starts or ends inside the
 * window is counted up to its last sample. `own: true` measures only the
 * backend of the sampler's own connection (the baseline's INSERTs).
 */
export const pgBackendCpu = async (databaseUrl: string, options: { readonly client?: pg.Client } = {}) => {
  const client = options.client ?? new pg.Client({ connectionString: databaseUrl })
  if (options.client === undefined) await client.connect()
  const first = new Map<number, number>()
  const last = new Map<number, number>()
  const list = async () => {
    const sql = options.client === undefined
      ? "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
      : "SELECT pg_backend_pid() AS pid"
    const { rows } = await client.query<{ pid: number }>(sql)
    return rows.map((r) => r.pid)
  }
  const sample = (pids: ReadonlyArray<number>, isFirst: boolean) => {
    for (const pid of pids) {
      const cpu = cpuMsOf(pid)
      if (cpu === 0 && last.has(pid)) continue
      if (!first.has(pid)) first.set(pid, isFirst ? cpu : 0)
      last.set(pid, cpu)
    }
  }
  sample(await list(), true)
  let pids = [...first.keys()]
  let stopped = false
  const poller = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 200))
      if (stopped) break
      if (options.client === undefined) pids = await list()
      sample(pids, false)
    }
  })()
  return {
    stop: async (): Promise<number> => {
      sample(options.client === undefined ? await list() : pids, false)
      stopped = true
      await poller
      if (options.client === undefined) await client.end()
      let sum = 0
      for (const [pid, cpu] of last) sum += cpu - first.get(pid)!
      return sum
    }
  }
}
