/**
 * Deep-queue ingest against one node: `connections` sockets keep `inFlight`
 * posts each outstanding, spread over the channels, for `seconds`; a post
 * counts when it is acknowledged (after its commit). Measures the node's CPU
 * and its Postgres backends' CPU over the same window.
 */
import type WebSocket from "ws"
import type { NodeProcess } from "../../fixtures/NodeProcess.ts"
import { closeAll, openAll } from "./BenchClients.ts"
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
      send()
    })
  )).then(() => ({ acked, errors, firstError }))
}

/** Posts one message to every channel (activating each) and waits for all of them. */
export const touchAll = async (node: NodeProcess, token: string, channels: ReadonlyArray<string>) => {
  const sockets = await openAll(Array.from({ length: 8 }, () => `${node.wsUrl}?token=${token}`))
  try {
    const r = await drive(sockets, channels, 200, () => false, channels.length)
    if (r.errors > 0) throw new Error(`${r.errors} posts failed while activating the channels: ${r.firstError}`)
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
