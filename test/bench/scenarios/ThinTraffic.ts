/**
 * `thin` / `thin3`: thin traffic, 2,000 msg/s spread over 1,000 channels. 100
 * posters (distinct users) each created and post to 10 channels (20 msg/s
 * each); 50 subscribers (distinct users) follow 20 channels each, so every
 * channel has one subscriber. 1 s of warm-up, 5 s measured. Figures: the
 * nodes' CPU per message (all nodes summed) and post → delivery p50 / p99.
 * On 3 nodes, posters and subscribers are spread round-robin over the nodes.
 * Baseline: one bare uWS server at the same shape (1,000 topics, the same
 * sockets, the same frame size); and the same server answering every post
 * with an ack (`/pubacked`), the socket writes the protocol asks of every
 * post (a delivery and an ack) and nothing else, reported beside it. The
 * ratio is to bare uWS.
 */
import type WebSocket from "ws"
import type { NodeProcess } from "../../fixtures/NodeProcess.ts"
import { closeAll, createChannels, inPool, openAll, subscribe, tokensOf } from "../lib/BenchClients.ts"
import { activate } from "../lib/IngestLoad.ts"
import { relaxedEnv } from "../lib/BenchEnv.ts"
import { type RawServer, withDatabase, withNodes, withRaw } from "../lib/Lifecycle.ts"
import { latencySampler, paced } from "../lib/Paced.ts"
import { cpuWindow, pgBackendCpu } from "../lib/ProcessStats.ts"
import { lockWarnings } from "../lib/NodeLogs.ts"
import { report } from "../lib/Results.ts"
import { alternate, fmt3, median } from "../lib/Rounds.ts"

const CHANNELS = 1000
const POSTERS = 100
const SUBS = 50
const RATE = Number(process.env.BENCH_THIN_RATE ?? 2000)
const SECONDS = 5
/** How long the nodes' CPU is measured with every channel followed and no traffic. */
const IDLE_MS = Number(process.env.BENCH_THIN_IDLE_MS ?? 3000)

interface Shape {
  readonly posters: ReadonlyArray<WebSocket>
  readonly subs: ReadonlyArray<WebSocket>
  /** The frame that posts message `i` (to channel `i % CHANNELS`) sent at `t`. */
  readonly frame: (round: number, i: number, t: number) => string
  readonly pids: ReadonlyArray<number>
  readonly dbUrl?: string
  /** Posts refused so far. */
  readonly errors: () => number
}

let frameBytes = 240

const measure = async (shape: Shape, round: number) => {
  const sampler = latencySampler(shape.subs)
  const send = (i: number, t: number) => shape.posters[(i % CHANNELS) % POSTERS]!.send(shape.frame(round, i, t))
  await paced(RATE, 1, 0, send)
  const pg = shape.dbUrl === undefined ? undefined : await pgBackendCpu(shape.dbUrl)
  const cpu = cpuWindow(shape.pids)
  sampler.start()
  const sent = await paced(RATE, SECONDS, RATE, send)
  const latency = await sampler.finish(sent)
  const cpuMs = cpu.stop()
  const pgMs = (await pg?.stop()) ?? 0
  return { ...latency, cpuUs: (cpuMs * 1000) / sent, pgUs: (pgMs * 1000) / sent, errors: shape.errors() }
}

/** PlexiChat at the shape: channel c is created by poster c % 100 and followed by subscriber c % 50. */
const plexiShape = async (nodes: ReadonlyArray<NodeProcess>, dbUrl: string): Promise<Shape & { close: () => void }> => {
  const at = (i: number) => nodes[i % nodes.length]!
  const posterTokens = await tokensOf(nodes[0]!.url, "thin-poster-", POSTERS)
  const subTokens = await tokensOf(nodes[0]!.url, "thin-sub-", SUBS)
  let phaseStart = Date.now()
  const phase = (what: string) => {
    console.error(`  ${what} in ${((Date.now() - phaseStart) / 1000).toFixed(1)} s`)
    phaseStart = Date.now()
  }
  const owned = await inPool(posterTokens, 2, (t, p) => createChannels(at(p).url, t, CHANNELS / POSTERS, `thin-${p}`))
  phase(`${CHANNELS} channels created`)
  const channels = Array.from({ length: CHANNELS }, (_, c) => owned[c % POSTERS]![Math.floor(c / POSTERS)]!)
  const posters = await openAll(posterTokens.map((t, p) => `${at(p).wsUrl}?token=${t}`))
  let closing = false
  // A poster the node closes loses its posts' answers: say so, with the close code.
  posters.forEach((ws, p) => ws.on("close", (code: number, reason: Buffer) => closing || console.error(`  poster ${p} closed: ${code} ${reason}`)))
  // A socket error (a frame `ws` refuses, a reset) takes the socket out of OPEN before its close event: say which.
  posters.forEach((ws, p) => ws.on("error", (error: Error) => console.error(`  poster ${p} socket error: ${error.message}`)))
  const subs = await openAll(subTokens.map((t, s) => `${at(s).wsUrl}?token=${t}`))
  await Promise.all(subs.map((ws, s) => subscribe(ws, channels.filter((_, c) => c % SUBS === s))))
  phase(`${SUBS} subscribers followed ${CHANNELS / SUBS} channels each`)
  // Activate every channel (one post each, acked) before any paced traffic, as a running chat's channels are.
  const retried = await activate(posters, channels, (c) => c % POSTERS)
  phase(`${CHANNELS} channels activated${retried > 0 ? ` (${retried} posts retried after channel_unavailable)` : ""}`)
  const idle = cpuWindow(nodes.map((n) => n.child.pid!))
  await new Promise((r) => setTimeout(r, IDLE_MS))
  console.error(`  idle with every channel followed: ${(idle.stop() / IDLE_MS * 100).toFixed(1)}% of a core (all nodes)`)
  let errors = 0
  for (const p of posters) {
    p.on("message", (data: Buffer) => {
      if (data.toString().startsWith("{\"type\":\"error\"") && errors++ === 0) console.error(`  first refused post: ${data}`)
    })
  }
  subs[0]!.once("message", (data: Buffer) => (frameBytes = data.length))
  return {
    posters,
    subs,
    frame: (round, i, t) => `{"type":"post","channelId":"${channels[i % CHANNELS]}","clientMsgId":"t${round}-${i}","body":"t${t}"}`,
    pids: nodes.map((n) => n.child.pid!),
    dbUrl,
    errors: () => errors,
    close: () => {
      closing = true
      closeAll([...posters, ...subs])
    }
  }
}

/** Bare uWS at the shape; `acked`: every post is answered with an ack (`/pubacked`). */
const rawShape = async (raw: RawServer, acked: boolean): Promise<Shape & { close: () => void }> => {
  const topics = (s: number) => Array.from({ length: CHANNELS / SUBS }, (_, k) => `c${s + k * SUBS}`).join(",")
  const subs = await openAll(Array.from({ length: SUBS }, (_, s) => `ws://127.0.0.1:${raw.port}/ws?user=s${s}&topics=${topics(s)}`))
  const posters = await openAll(Array.from({ length: POSTERS }, () => `ws://127.0.0.1:${raw.port}/${acked ? "pubacked" : "pub"}`))
  return {
    posters,
    subs,
    frame: (_round, i, t) => {
      const frame = `{"type":"message","message":{"seq":${i},"body":"t${t}"`
      return `c${i % CHANNELS}\n${frame}${" ".repeat(Math.max(0, frameBytes - frame.length - 2))}}}`
    },
    pids: [raw.child.pid!],
    errors: () => 0,
    close: () => closeAll([...posters, ...subs])
  }
}

export const thinTraffic = (nodeCount: 1 | 3) =>
  withRaw((raw) =>
    withDatabase((db) =>
      withNodes(Array.from({ length: nodeCount }, (_, i) => ({ name: `thin-${nodeCount}-${i}`, databaseUrl: db.url, env: relaxedEnv })), async (nodes) => {
        const plexi = await plexiShape(nodes, db.url)
        const base = await rawShape(raw, false)
        const acked = await rawShape(raw, true)
        try {
          const both = await alternate((round) => measure(plexi, round), async (round) => ({ bare: await measure(base, round), acked: await measure(acked, round) }))
          const runs = { plexi: both.plexi, baseline: both.baseline.map((b) => b.bare) }
          const ackedCpu = both.baseline.map((b) => b.acked.cpuUs)
          const warnings = nodes.flatMap(lockWarnings)
          for (const w of warnings.slice(0, 3)) console.error(`  lock warning: ${w.slice(0, 300)}`)
          const lost = runs.plexi.reduce((n, r) => n + r.expected - r.n, 0) + plexi.errors()
          const where = nodeCount === 1 ? "one node" : "3 nodes"
          const cpuTarget = nodeCount === 1 ? 60 : 100
          const p99Target = nodeCount === 1 ? 15 : 25
          const cpu = median(runs.plexi.map((r) => r.cpuUs))
          const p99 = median(runs.plexi.map((r) => r.p99))
          const suffix = (lost > 0 ? `, ${lost} not delivered or refused` : "") + (warnings.length > 0 ? `, ${warnings.length} lock warnings` : "")
          report({
            scenario: `thin traffic, ${where}: ${RATE} msg/s over ${CHANNELS} channels, CPU per message${nodeCount > 1 ? " (all nodes)" : ""}${suffix}`,
            plexi: fmt3(runs.plexi.map((r) => r.cpuUs), 1, "µs"),
            baseline: `${fmt3(runs.baseline.map((r) => r.cpuUs), 1, "µs")} (bare uWS); ${fmt3(ackedCpu, 1, "µs")} (bare uWS, an ack per post)`,
            ratio: `${(cpu / median(runs.baseline.map((r) => r.cpuUs))).toFixed(1)}× (${(cpu / median(ackedCpu)).toFixed(1)}× the acked)`,
            cpu: `node${nodeCount > 1 ? "s" : ""} ${fmt3(runs.plexi.map((r) => r.cpuUs), 1)} + PG ${fmt3(runs.plexi.map((r) => r.pgUs), 1)} µs/msg`,
            target: `≤ ${cpuTarget} µs/msg`,
            met: lost === 0 && warnings.length === 0 && cpu <= cpuTarget
          })
          report({
            scenario: `thin traffic, ${where}: post → delivery${suffix}`,
            plexi: `p50 ${fmt3(runs.plexi.map((r) => r.p50), 1)} ms, p99 ${fmt3(runs.plexi.map((r) => r.p99), 1)} ms`,
            baseline: `p50 ${fmt3(runs.baseline.map((r) => r.p50), 1)} ms, p99 ${fmt3(runs.baseline.map((r) => r.p99), 1)} ms (bare uWS)`,
            ratio: `p99 ${(p99 / median(runs.baseline.map((r) => r.p99))).toFixed(1)}×`,
            cpu: "–",
            target: `p99 ≤ ${p99Target} ms`,
            met: lost === 0 && warnings.length === 0 && p99 <= p99Target
          })
        } finally {
          plexi.close()
          base.close()
          acked.close()
        }
      })))
