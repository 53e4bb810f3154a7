import { startNode } from "/work/main/test/fixtures/NodeProcess.ts"
import { devToken, rest, WsClient } from "/work/main/test/fixtures/Clients.ts"
const node = await startNode({ env: { PLEXI_WS_MAX_FRAME_BYTES: "4096", PLEXI_WS_MAX_BACKPRESSURE_BYTES: "65536" } })
try {
  const t = await devToken(node.url, "alice")
  const api = rest(node.url, t)
  const ch = await api.createChannel("x")
  console.log("health", await (await fetch(node.url + "/api/v1/health")).json())
  const c = await WsClient.connect(node.wsUrl, t)
  await c.waitFor(f => f.type === "hello")
  console.log(c.frames)
  c.send("x".repeat(5 * 1024)); await c.waitFor(f => f.type === "error"); console.log(c.frames.at(-1))
  c.send({ type: "ping" }); await c.waitFor(f => f.type === "pong"); 
  c.socket.send(Buffer.from([1,2,3])); await c.waitFor(f => f.type === "error" && f.code === "binary_not_supported"); console.log(c.frames.at(-1))
  const big = await WsClient.connect(node.wsUrl, t)
  big.send("x".repeat(1024 * 1024 + 10))
  console.log("big close", await big.waitClosed())
  // slow consumer
  const slow = await WsClient.connect(node.wsUrl, t)
  slow.send({ type: "subscribe", channelId: ch.id }); await slow.waitFor(f => f.type === "subscribed")
  const normal = await WsClient.connect(node.wsUrl, t)
  normal.send({ type: "subscribe", channelId: ch.id }); await normal.waitFor(f => f.type === "subscribed")
  ;(slow.socket as any)._socket.pause()
  const body = "y".repeat(3900)
  for (let i = 0; i < 300; i++) await api.post(ch.id, `m${i}`, body)
  await normal.waitFor(f => f.type === "message" && f.message.seq === 300, 20000)
  console.log("health", await (await fetch(node.url + "/api/v1/health")).json())
  ;(slow.socket as any)._socket.resume()
  console.log("slow close", await slow.waitClosed(), slow.messages(ch.id).length)
} finally { await node.stop(); console.log(node.output().slice(-3000)) }
