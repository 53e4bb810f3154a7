/**
 * Deep-queue ingest against one node: `connections` sockets keep `inFlight`
 * posts each outstanding, spread over the channels, for `seconds`; a post
 * counts when it is acknowledged (after its commit). Measures the node's CPU
 * and its Postgres backends' CPU over the same window.
 */
import type WebSocket from "ws"
import type { NodeProcess } from "../../fixtures/NodeProcess.ts"
import { closeAll, historyOf, openAll } from "./BenchClients.ts"
import { cpuWindow, pgBackendCpu } from "./ProcessStats.ts"

export interface IngestResult {
  readonly acked: number
  readonly errors: number
  readonly firstError: string | undefined
  readonly rate: number
  readonly nodeUsPerMsg: number
  readonly pgUsPerMsg: number
}

const body = "x".repeat(64)
let runs = 0

const drive = (sockets: ReadonlyArray<WebSocket>, channels: ReadonlyArray<string>, inFlight: number, until: () => boolean, total: number) => {
  const run = ++runs
  let n = 0
  let acked = 0
  let errors = 0
  let firstError: string | undefined
  return Promise.all(sockets.map((ws, c) =>
    new Promise<void>((resolve) => {
      let open = 0
      const send = () => {
        while (open < inFlight && !until() && n < total) {
          const i = n++
          open++
          ws.send(`{"type":"post","channelId":"${channels[(i + c) % channels.length]}","clientMsgId":"i${run}-${i}","body":"${body}"}`)
        }
        if (open === 0) {
          ws.removeAllListeners("message")
          resolve()
        }
      }
      ws.on("message", (data) => {
        const s = data.toString()
        if (s.startsWith("{\"type\":\"ack\"")) acked++
        else if (s.startsWith("{\"type\":\"error\"")) {
          errors++
          firstError ??= s
        } else return
        open--
        send()
      })
      // A socket the node closed (e.g. as a slow consumer when this load generator is starved of CPU) loses its open
      // posts: counted as failed, and the run goes on with the other sockets instead of waiting for them forever.
      ws.once("close", (code, reason) => {
        if (open === 0) return
        errors += open
        firstError ??= `socket closed with ${code} ${reason.toString()}, ${open} posts unanswered`
        open = 0
        ws.removeAllListeners("message")
        resolve()
      })
      send()
    })
  )).then(() => ({ acked, errors, firstError }))
}

/**
 * Activates every channel before anything is measured, as a running chat's
 * channels are: one post each, at most 32 in flight, a `channel_unavailable`
 * (documented as safe to retry with the same clientMsgId) retried up to 5
 * times. Returns the retries; throws when a channel stays unavailable.
 */
/** How long activation waits for every post's answer (each is answered within the node's 10 s post deadline). */
const ACTIVATE_TIMEOUT_MS = 60_000

export const activate = async (sockets: ReadonlyArray<WebSocket>, channels: ReadonlyArray<string>, socketOf: (c: number) => number = (c) => c % sockets.length) => {
  let retries = 0
  let next = 0
  await new Promise<void>((resolve, reject) => {
    const tries = new Map<string, number>()
    /** The posts sent and not answered yet, by channel index. */
    const unanswered = new Set<number>()
    const closes: Array<string> = []
    const onClose = (code: number, reason: Buffer) => closes.push(`${code} ${reason.toString()}`.trim())
    for (const ws of sockets) ws.once("close", onClose)
    // A post the node never answers would otherwise hang the run: fail it, saying which posts are missing.
    const deadline = setTimeout(() => {
      for (const w of sockets) w.removeAllListeners("message")
      const notOpen = sockets.filter((w) => w.readyState !== w.OPEN)
      const closed = notOpen.length
      const states = notOpen.map((w) => `readyState ${w.readyState}: ${historyOf(w).join(", ") || "no error or close since open"}`)
      const why = (closes.length > 0 ? `; closed during activation with ${closes.join(", ")}` : "") +
        (states.length > 0 ? `; not open: ${states.slice(0, 3).join("; ")}` : "")
      reject(new Error(`activation: ${unanswered.size} posts unanswered after ${ACTIVATE_TIMEOUT_MS} ms (first: channel ${channels[[...unanswered][0]!]}, ${closed} of ${sockets.length} sockets not open${why})`))
    }, ACTIVATE_TIMEOUT_MS)
    const post = (c: number) => {
      unanswered.add(c)
      sockets[socketOf(c)]!.send(`{"type":"post","channelId":"${channels[c]}","clientMsgId":"warm-${c}","body":"warm","ref":"w${c}"}`)
    }
    const fill = () => {
      while (unanswered.size < 32 && next < channels.length) post(next++)
      if (unanswered.size === 0) {
        clearTimeout(deadline)
        resolve()
      }
    }
    for (const ws of sockets) {
      ws.on("message", function on(data: Buffer) {
        const s = data.toString()
        const ref = /"ref":"w(\d+)"/.exec(s)
        if (ref === null) return
        const c = Number(ref[1])
        if (!unanswered.delete(c)) {
          // Every post is answered exactly once (docs/PROTOCOL.md): a second answer would leave the count of posts in flight short forever.
          for (const w of sockets) w.removeAllListeners("message")
          clearTimeout(deadline)
          return reject(new Error(`activation: post w${c} answered twice, the second time with ${s}`))
        }
        if (s.startsWith("{\"type\":\"error\"")) {
          const n = tries.get(channels[c]!) ?? 0
          if (!s.includes("channel_unavailable") || n >= 5) {
            for (const w of sockets) w.removeAllListeners("message")
            clearTimeout(deadline)
            return reject(new Error(`activating channel ${channels[c]} failed: ${s}`))
          }
          tries.set(channels[c]!, n + 1)
          retries++
          return post(c)
        }
        if (next === channels.length && unanswered.size === 0) ws.off("message", on)
        fill()
      })
    }
    fill()
  })
  for (const ws of sockets) ws.removeAllListeners("message")
  return retries
}

/** `activate` over 8 fresh sockets of the token's user. */
export const touchAll = async (node: NodeProcess, token: string, channels: ReadonlyArray<string>) => {
  const sockets = await openAll(Array.from({ length: 8 }, () => `${node.wsUrl}?token=${token}`))
  try {
    const retries = await activate(sockets, channels)
    if (retries > 0) console.error(`  activating ${channels.length} channels: ${retries} posts retried after channel_unavailable`)
  } finally {
    closeAll(sockets)
  }
}

export const ingest = async (
  node: NodeProcess,
  databaseUrl: string,
  token: string,
  channels: ReadonlyArray<string>,
  options: { readonly seconds: number; readonly connections?: number; readonly inFlight?: number }
): Promise<IngestResult> => {
  const sockets = await openAll(Array.from({ length: options.connections ?? 8 }, () => `${node.wsUrl}?token=${token}`))
  try {
    const pg = await pgBackendCpu(databaseUrl)
    const cpu = cpuWindow([node.child.pid!])
    const start = performance.now()
    const stopAt = start + options.seconds * 1000
    const r = await drive(sockets, channels, options.inFlight ?? 400, () => performance.now() >= stopAt, Number.POSITIVE_INFINITY)
    const elapsed = (performance.now() - start) / 1000
    const nodeMs = cpu.stop()
    const pgMs = await pg.stop()
    return { ...r, rate: r.acked / elapsed, nodeUsPerMsg: (nodeMs * 1000) / r.acked, pgUsPerMsg: (pgMs * 1000) / r.acked }
  } finally {
    closeAll(sockets)
  }
}
