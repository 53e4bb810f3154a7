/**
 * The baseline server of the benchmarks: bare uWebSockets.js pub/sub with no
 * auth, no storage and no cluster. A client sends any text frame and the
 * server publishes it to topic "t", to which every `/ws` socket is
 * subscribed; publishers connect to `/pub` and receive nothing.
 *
 *   node --import tsx test/bench/RawUwsServer.ts <port>
 */
import { uws, websocketEngine } from "../../runtime/edge/Uws.ts"

const port = Number(process.argv[2] ?? 9001)
const app = uws.App()
app.ws("/ws", {
  compression: uws.DISABLED,
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 1024 * 1024,
  idleTimeout: 120,
  open: (ws) => {
    ws.subscribe("t")
  },
  message: (_ws, message) => {
    app.publish("t", message, false)
  }
})
// Publishers connect here: they publish but do not receive.
app.ws("/pub", {
  compression: uws.DISABLED,
  maxPayloadLength: 64 * 1024,
  idleTimeout: 120,
  message: (_ws, message) => {
    app.publish("t", message, false)
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
