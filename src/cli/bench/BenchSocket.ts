/**
 * Raw WebSocket clients for load (`plexichat bench`, and test/bench's load
 * generator): the `ws` package with compression off, as docs/PROTOCOL.md
 * says the node runs it, and no per-frame bookkeeping beyond what a caller adds.
 */
import WebSocket from "ws"

/** What happened to each socket `open` made, from its open on: errors and its close (for a load run's failure report). */
const histories = new WeakMap<WebSocket, Array<string>>()

/** The errors and the close a socket `open` made has seen since it opened, each with the ms since its open. */
export const historyOf = (ws: WebSocket): ReadonlyArray<string> => histories.get(ws) ?? []

/** Opens a socket to `url` (a `ws://…/ws?token=…` URL); rejects on an upgrade refusal. */
export const open = (url: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    ws.once("open", () => {
      const opened = Date.now()
      const history: Array<string> = []
      histories.set(ws, history)
      ws.on("error", (error) => history.push(`+${Date.now() - opened} ms error: ${error.message}`))
      ws.once("close", (code, reason) => history.push(`+${Date.now() - opened} ms close ${code} ${reason.toString()}`.trim()))
      resolve(ws)
    })
    ws.once("error", reject)
  })

/** The WebSocket door of the node at `httpUrl` (an origin such as `http://host:8080`). */
export const wsUrlOf = (httpUrl: string) => `${httpUrl.replace(/^http/, "ws")}/ws`

/**
 * Subscribes `ws` to every channel and resolves once each answered
 * `subscribed`; a `channel_unavailable` (temporary) is retried up to 5 times
 * with a growing backoff, any other error rejects.
 */
export const subscribeAll = (ws: WebSocket, channelIds: ReadonlyArray<string>, timeoutMs = 30_000, onRetry = () => {}) =>
  new Promise<void>((resolve, reject) => {
    const waiting = new Set(channelIds)
    const attempts = new Map<string, number>()
    if (waiting.size === 0) return resolve()
    const timer = setTimeout(() => done(new Error(`subscribe: no answer within ${timeoutMs} ms for ${waiting.size} channel(s)`)), timeoutMs)
    const send = (id: string) => ws.send(JSON.stringify({ type: "subscribe", channelId: id }))
    const on = (data: WebSocket.RawData) => {
      const text = data.toString()
      if (!text.startsWith("{\"type\":\"subscribed\"") && !text.startsWith("{\"type\":\"error\"")) return
      const frame = JSON.parse(text) as { type: string; channelId?: string; code?: string }
      if (frame.channelId === undefined || !waiting.has(frame.channelId)) return
      if (frame.type === "error") {
        const n = attempts.get(frame.channelId) ?? 0
        if (frame.code !== "channel_unavailable" || n >= 5) return done(new Error(`subscribe refused: ${text.slice(0, 300)}`))
        attempts.set(frame.channelId, n + 1)
        onRetry()
        setTimeout(() => send(frame.channelId!), 200 * 2 ** n)
        return
      }
      waiting.delete(frame.channelId)
      if (waiting.size === 0) done()
    }
    const done = (error?: Error) => {
      clearTimeout(timer)
      ws.off("message", on)
      if (error) reject(error)
      else resolve()
    }
    ws.on("message", on)
    for (const id of channelIds) send(id)
  })
