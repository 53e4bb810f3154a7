/**
 * The load of `plexichat bench`: `tokens.length` WebSocket clients, each
 * subscribed to every channel, post at `rate` messages per second in all
 * (round robin over the clients, each client over the channels) for
 * `durationS` seconds; then the run waits up to `settleMs` for the last acks
 * and deliveries. Measured in this process (one clock): post → `ack` and
 * post → `message` on every subscribed client (docs/PROTOCOL.md, `post`).
 */
import type WebSocket from "ws"
import { open, subscribeAll } from "./BenchSocket.ts"
import { p50p99 } from "./Percentile.ts"

export interface LoadPlan {
  readonly wsUrl: string
  readonly tokens: ReadonlyArray<string>
  readonly channels: ReadonlyArray<string>
  readonly rate: number
  readonly durationS: number
  readonly settleMs: number
  /** Prefixes every clientMsgId, so that only this run's messages are measured. */
  readonly runId: string
}

export interface LoadResult {
  readonly clients: number
  readonly channels: number
  readonly durationS: number
  readonly sent: number
  readonly acked: number
  /** Posts answered with an error frame, by its code. */
  readonly errors: Readonly<Record<string, number>>
  /** Posts neither acknowledged nor refused by the end of the settle time. */
  readonly unanswered: number
  readonly delivered: number
  /** Acknowledged posts × the clients subscribed to their channel (every client follows every channel). */
  readonly expectedDeliveries: number
  readonly msgsPerSec: number
  readonly deliveriesPerSec: number
  readonly ackLatencyMs: ReturnType<typeof p50p99>
  readonly deliveryLatencyMs: ReturnType<typeof p50p99>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Frame {
  readonly type: string
  readonly clientMsgId?: string
  readonly code?: string
  readonly ref?: string
  readonly message?: { readonly clientMsgId?: string; readonly body?: string }
}

/** The counters one run fills from the frames its clients receive. */
const tally = (runId: string) => {
  const pending = new Map<string, number>()
  const state = { acked: 0, delivered: 0, errors: {} as Record<string, number>, ack: [] as Array<number>, delivery: [] as Array<number> }
  const onFrame = (data: WebSocket.RawData) => {
    const now = performance.now()
    const frame = JSON.parse(data.toString()) as Frame
    if (frame.type === "ack" && frame.clientMsgId !== undefined) {
      const sentAt = pending.get(frame.clientMsgId)
      if (sentAt === undefined) return
      pending.delete(frame.clientMsgId)
      state.acked++
      state.ack.push(now - sentAt)
    } else if (frame.type === "message" && frame.message?.clientMsgId?.startsWith(runId) === true) {
      state.delivered++
      state.delivery.push(now - Number(frame.message.body!.slice(6)))
    } else if (frame.type === "error" && frame.ref !== undefined && pending.delete(frame.ref)) {
      state.errors[frame.code ?? "unknown"] = (state.errors[frame.code ?? "unknown"] ?? 0) + 1
    }
  }
  return { pending, state, onFrame }
}

/** Sends `total` posts at `rate`/s; `send(i)` posts the i-th. */
const paced = async (rate: number, total: number, send: (i: number) => void) => {
  const start = performance.now()
  let i = 0
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1)
    while (i < due) send(i++)
    await sleep(1)
  }
  return (performance.now() - start) / 1000
}

/** Runs the load; rejects when a client cannot connect or subscribe. */
export const runLoad = async (plan: LoadPlan): Promise<LoadResult> => {
  const sockets: Array<WebSocket> = []
  try {
    for (const token of plan.tokens) sockets.push(await open(`${plan.wsUrl}?token=${encodeURIComponent(token)}`))
    await Promise.all(sockets.map((ws) => subscribeAll(ws, plan.channels)))
    const { onFrame, pending, state } = tally(plan.runId)
    for (const ws of sockets) ws.on("message", onFrame)
    const total = Math.max(1, Math.round(plan.rate * plan.durationS))
    const [n, c] = [sockets.length, plan.channels.length]
    // The send window: the last post goes out just before `durationS` (the paced loop sends each when it is due).
    const seconds = Math.max(plan.durationS, await paced(plan.rate, total, (i) => {
      const clientMsgId = `${plan.runId}-${i}`
      const sentAt = performance.now()
      pending.set(clientMsgId, sentAt)
      const channelId = plan.channels[Math.floor(i / n) % c]!
      sockets[i % n]!.send(JSON.stringify({ type: "post", channelId, clientMsgId, ref: clientMsgId, body: `bench:${sentAt.toFixed(3)}` }))
    }))
    const deadline = performance.now() + plan.settleMs
    while ((pending.size > 0 || state.delivered < state.acked * n) && performance.now() < deadline) await sleep(10)
    return {
      clients: n,
      channels: c,
      durationS: Math.round(seconds * 100) / 100,
      sent: total,
      acked: state.acked,
      errors: state.errors,
      unanswered: pending.size,
      delivered: state.delivered,
      expectedDeliveries: state.acked * n,
      msgsPerSec: Math.round((state.acked / seconds) * 10) / 10,
      deliveriesPerSec: Math.round((state.delivered / seconds) * 10) / 10,
      ackLatencyMs: p50p99(state.ack),
      deliveryLatencyMs: p50p99(state.delivery)
    }
  } finally {
    for (const ws of sockets) ws.terminate()
  }
}
