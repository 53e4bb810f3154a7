/**
 * `fanout` / `fanout-shipped`: 500 WebSocket subscribers of distinct users on
 * one channel; 10 posters (distinct users, members) post 200 messages each,
 * which the shipped per-socket limit (200/s, burst 400) accepts; done when
 * every subscriber has every message. Primary figure: the server's CPU per
 * delivery (the one load generator bounds deliveries/s on both sides).
 * Baseline: bare uWS, the same 500 subscribers and 10 publishers (not
 * subscribed), the same frame size, publish from a later turn as PlexiChat's.
 */
import type WebSocket from "ws"
import type { NodeProcess } from "../../fixtures/NodeProcess.ts"
import { closeAll, createChannels, join, openAll, subscribe, tokensOf } from "../lib/BenchClients.ts"
import { relaxedEnv, shippedEnv } from "../lib/BenchEnv.ts"
import { type RawServer, withDatabase, withNodes, withRaw } from "../lib/Lifecycle.ts"
import { cpuWindow, pgBackendCpu } from "../lib/ProcessStats.ts"
import { report } from "../lib/Results.ts"
import { alternate, fmt3, median } from "../lib/Rounds.ts"

const SUBS = 500
const POSTERS = 10
const PER_POSTER = 200
const body = "x".repeat(64)

interface Run {
  readonly deliveries: number
  readonly perSecond: number
  readonly serverUs: number
  readonly pgUs: number
  readonly refused: number
}

/** Counts message frames on every subscriber until `expected()` are in (or 60 s pass). */
const deliveries = (subs: ReadonlyArray<WebSocket>, onFirst: (bytes: number) => void) => {
  let received = 0
  let wake = () => {}
  for (const ws of subs) {
    ws.on("message", (data: Buffer) => {
      if (data[2] !== 116 || data[9] !== 109) return // `{"type":"message"…`
      if (received++ === 0) onFirst(data.length)
      if (received % 1000 === 0) wake()
    })
  }
  return async (expected: () => number) => {
    const deadline = Date.now() + 60_000
    while (received < expected()) {
      if (Date.now() > deadline) throw new Error(`fan-out: ${received} of ${expected()} deliveries after 60 s`)
      await new Promise<void>((r) => {
        wake = r
        setTimeout(r, 20)
      })
    }
    return received
  }
}

let frameBytes = 230

const plexiRound = async (node: NodeProcess, dbUrl: string, tokens: { owner: string; posters: Array<string>; subs: Array<string> }, perPoster: number) => {
  const [channel] = await createChannels(node.url, tokens.owner, 1, "fanout")
  await Promise.all(tokens.posters.map((t) => join(node.url, t, channel!)))
  const subs = await openAll(tokens.subs.map((t) => `${node.wsUrl}?token=${t}`))
  const posters = await openAll(tokens.posters.map((t) => `${node.wsUrl}?token=${t}`))
  try {
    await Promise.all(subs.map((ws) => subscribe(ws, [channel!])))
    let answered = 0
    let refused = 0
    for (const p of posters) {
      p.on("message", (data: Buffer) => {
        const s = data.toString()
        if (s.startsWith("{\"type\":\"ack\"")) answered++
        else if (s.startsWith("{\"type\":\"error\"")) {
          answered++
          refused++
        }
      })
    }
    const wait = deliveries(subs, (bytes) => (frameBytes = bytes))
    const pg = await pgBackendCpu(dbUrl)
    const cpu = cpuWindow([node.child.pid!])
    const start = performance.now()
    posters.forEach((p, k) => {
      for (let i = 0; i < perPoster; i++) p.send(`{"type":"post","channelId":"${channel}","clientMsgId":"f${k}-${i}","body":"${body}"}`)
    })
    const total = POSTERS * perPoster
    const got = await wait(() => (answered < total ? Number.POSITIVE_INFINITY : (total - refused) * SUBS))
    const seconds = (performance.now() - start) / 1000
    const serverMs = cpu.stop()
    const pgMs = await pg.stop()
    return { deliveries: got, perSecond: got / seconds, serverUs: (serverMs * 1000) / got, pgUs: (pgMs * 1000) / got, refused }
  } finally {
    closeAll([...subs, ...posters])
  }
}

const rawRound = async (raw: RawServer, perPoster: number): Promise<Run> => {
  const subs = await openAll(Array.from({ length: SUBS }, (_, i) => `ws://127.0.0.1:${raw.port}/ws?user=s${i}&topics=t`))
  const posters = await openAll(Array.from({ length: POSTERS }, () => `ws://127.0.0.1:${raw.port}/pub`))
  try {
    const wait = deliveries(subs, () => {})
    const cpu = cpuWindow([raw.child.pid!])
    const start = performance.now()
    posters.forEach((p, k) => {
      for (let i = 0; i < perPoster; i++) {
        const frame = `{"type":"message","message":{"seq":${k * perPoster + i},"body":"${body}"`
        p.send(`${frame}${" ".repeat(Math.max(0, frameBytes - frame.length - 2))}}}`)
      }
    })
    const got = await wait(() => POSTERS * perPoster * SUBS)
    const seconds = (performance.now() - start) / 1000
    return { deliveries: got, perSecond: got / seconds, serverUs: (cpu.stop() * 1000) / got, pgUs: 0, refused: 0 }
  } finally {
    closeAll([...subs, ...posters])
  }
}

export const fanOut = (limits: "relaxed" | "shipped") =>
  withRaw((raw) =>
    withDatabase((db) =>
      withNodes([{ name: `fanout-${limits}`, databaseUrl: db.url, env: limits === "relaxed" ? relaxedEnv : shippedEnv }], async ([node]) => {
        const [owner] = await tokensOf(node!.url, "fan-owner-", 1)
        const tokens = { owner: owner!, posters: await tokensOf(node!.url, "fan-poster-", POSTERS), subs: await tokensOf(node!.url, "fan-sub-", SUBS) }
        // The same short warm-up on both sides (JIT, first-use allocations), not measured.
        await plexiRound(node!, db.url, tokens, 20)
        await rawRound(raw, 20)
        const { plexi, baseline } = await alternate(() => plexiRound(node!, db.url, tokens, PER_POSTER), () => rawRound(raw, PER_POSTER))
        const refused = plexi.reduce((n, r) => n + r.refused, 0)
        const label = `${limits === "relaxed" ? "relaxed" : "shipped"} limits`
        const cpuRatio = median(plexi.map((r) => r.serverUs)) / median(baseline.map((r) => r.serverUs))
        report({
          scenario: `fan-out, ${label}: ${SUBS} subscribers × ${POSTERS * PER_POSTER} messages, server CPU per delivery${refused > 0 ? `, ${refused} posts refused` : ""}`,
          plexi: fmt3(plexi.map((r) => r.serverUs), 2, "µs"),
          baseline: `${fmt3(baseline.map((r) => r.serverUs), 2, "µs")} (bare uWS)`,
          ratio: `${cpuRatio.toFixed(2)}×`,
          cpu: `node ${fmt3(plexi.map((r) => r.serverUs), 2)} + PG ${fmt3(plexi.map((r) => r.pgUs), 3)} µs/delivery`,
          // Issue 6's target: at most 1.1× bare uWS's CPU per delivery.
          target: "≤ 1.1× bare uWS CPU",
          met: refused === 0 && cpuRatio <= 1.1
        })
        const rateRatio = median(plexi.map((r) => r.perSecond)) / median(baseline.map((r) => r.perSecond))
        report({
          scenario: `fan-out, ${label}: deliveries/s (bounded by the one load generator on both sides)`,
          plexi: fmt3(plexi.map((r) => r.perSecond)),
          baseline: `${fmt3(baseline.map((r) => r.perSecond))} (bare uWS)`,
          ratio: rateRatio.toFixed(2),
          cpu: `frame ${frameBytes} B on both sides`,
          target: "≥ 0.5×",
          met: refused === 0 && rateRatio >= 0.5
        })
      })))
