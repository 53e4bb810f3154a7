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
 *
 * Publishing happens where PlexiChat publishes: not inside the socket's
 * message handler but later, from a queue drained in a `setImmediate` (a
 * PlexiChat node calls `app.publish` from its own fiber after the commit).
 *
 *   node --import tsx test/bench/RawUwsServer.ts <port>
 */
import { uws, websocketEngine } from "../../runtime/edge/Uws.ts"

const port = Number(process.argv[2] ?? 0)
const app = uws.App()
const queue: Array<[string, ArrayBuffer]> = []
let scheduled = false
const drain = () => {
  scheduled = false
  const batch = queue.splice(0, queue.length)
  for (const [topic, payload] of batch) app.publish(topic, payload, false)
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
  message: (_ws, message) => {
    const bytes = new Uint8Array(message)
    const newline = bytes.indexOf(10)
    // uWS reuses the message buffer after the handler returns: keep a copy.
    const copy = message.slice(newline + 1)
    queue.push([newline < 0 ? "t" : Buffer.from(bytes.subarray(0, newline)).toString(), copy])
    if (!scheduled) {
      scheduled = true
      setImmediate(drain)
    }
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
