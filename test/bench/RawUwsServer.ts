/**
 * The baseline server of the benchmarks: bare uWebSockets.js pub/sub with no
 * auth check, no storage and no cluster.
 *
 * - `/ws?user=<id>&topics=<a,b,…>`: a subscriber. It keeps its user id in its
 *   user data (as a PlexiChat session keeps its user) and is subscribed to
 *   each topic (default `t`). It receives, and never publishes.
 * - `/pub`: a publisher, subscribed to nothing. A frame `<topic>\n<payload>`
 *   publishes `<payload>` to `<topic>`; a frame without a newline publishes
 *   itself to `t`.
 * - `/pubacked`: the same, and after the publish the publisher gets an ack
 *   frame of the size of a PlexiChat `ack` (corked, as PlexiChat writes its
 *   replies): what the protocol makes every post cost in socket writes
 *   (a delivery and an ack), without storage or anything else.
 *
 * Publishing happens where PlexiChat publishes: not inside the socket's
 * message handler but later, from a queue drained in a `setImmediate` (a
 * PlexiChat node calls `app.publish` from its own fiber after the commit).
 *
 *   node --import tsx test/bench/RawUwsServer.ts <port>
 */
import type { WebSocket } from "uWebSockets.js"
import { uws, websocketEngine } from "../../runtime/edge/Uws.ts"

const port = Number(process.argv[2] ?? 0)
const app = uws.App()
/** A publisher on `/pubacked`; `open` until its socket closes (uWS throws on a closed socket). */
interface Acked {
  open: boolean
}

const queue: Array<[string, ArrayBuffer, WebSocket<Acked> | undefined]> = []
let scheduled = false
// The size of PlexiChat's ack of a post without a ref (docs/PROTOCOL.md, "ack").
const ack = `{"type":"ack","channelId":"c_GkYEPB15u4K0","clientMsgId":"t0-1000","id":"c_GkYEPB15u4K0:1","seq":1,"createdAt":1795670104443}`
const drain = () => {
  scheduled = false
  const batch = queue.splice(0, queue.length)
  for (const [topic, payload, publisher] of batch) {
    app.publish(topic, payload, false)
    if (publisher?.getUserData().open) publisher.cork(() => publisher.send(ack))
  }
}

const publish = (message: ArrayBuffer, publisher: WebSocket<Acked> | undefined) => {
  const bytes = new Uint8Array(message)
  const newline = bytes.indexOf(10)
  // uWS reuses the message buffer after the handler returns: keep a copy.
  const copy = message.slice(newline + 1)
  queue.push([newline < 0 ? "t" : Buffer.from(bytes.subarray(0, newline)).toString(), copy, publisher])
  if (!scheduled) {
    scheduled = true
    setImmediate(drain)
  }
}

interface Subscriber {
  readonly userId: string
  readonly topics: ReadonlyArray<string>
}

app.ws<Subscriber>("/ws", {
  compression: uws.DISABLED,
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 1024 * 1024,
  idleTimeout: 120,
  upgrade: (res, req, context) => {
    const query = new URLSearchParams(req.getQuery() ?? "")
    const data: Subscriber = { userId: query.get("user") ?? "anonymous", topics: (query.get("topics") ?? "t").split(",") }
    res.upgrade(data, req.getHeader("sec-websocket-key"), req.getHeader("sec-websocket-protocol"), req.getHeader("sec-websocket-extensions"), context)
  },
  open: (ws) => {
    for (const topic of ws.getUserData().topics) ws.subscribe(topic)
  }
})
app.ws("/pub", {
  compression: uws.DISABLED,
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 120,
  message: (_ws, message) => publish(message, undefined)
})
app.ws<Acked>("/pubacked", {
  compression: uws.DISABLED,
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 120,
  upgrade: (res, req, context) => {
    res.upgrade<Acked>({ open: true }, req.getHeader("sec-websocket-key"), req.getHeader("sec-websocket-protocol"), req.getHeader("sec-websocket-extensions"), context)
  },
  message: (ws, message) => publish(message, ws),
  close: (ws) => {
    ws.getUserData().open = false
  }
})
app.get("/health", (res) => {
  res.end(JSON.stringify({ websocketEngine }))
})
app.listen("127.0.0.1", port, (socket) => {
  if (!socket) {
    console.error(`cannot listen on ${port}`)
    process.exit(1)
  }
  // Port 0 lets the OS choose; the line tells the bench which port it got.
  console.log(`raw uWS listening on http://127.0.0.1:${uws.us_socket_local_port(socket as never)} (${websocketEngine})`)
})
