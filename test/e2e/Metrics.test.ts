/**
 * `GET /metrics` of a real node: who may read it, and that the counters and
 * histograms move by exactly what real clients did (posts over a real
 * WebSocket, fan-out to two subscribers, refused frames, errors).
 */
import { describe, expect, it } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest, WsClient } from "../fixtures/Clients.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"
import { parsePrometheus, scrape } from "../fixtures/PrometheusScrape.ts"
import { failure, rpc } from "../fixtures/RpcCalls.ts"
import { freePort } from "../fixtures/TestDatabase.ts"

const token = "metrics-reader-token-for-the-test"

const connect = async (url: string, accessToken: string) => {
  const client = await WsClient.connect(url, accessToken)
  await client.waitFor((f) => f.type === "hello")
  return client
}

describe("GET /metrics on a node with PLEXI_METRICS_TOKEN", () => {
  const node = nodeForSuite({
    // A small frame bucket, so that a burst of pings is partly refused; no flood close for this test.
    env: { PLEXI_METRICS_TOKEN: token, PLEXI_WS_RATE_BURST: "20", PLEXI_WS_RATE_LIMIT: "1", PLEXI_WS_FLOOD_CLOSE_AFTER: "100000" }
  })

  it("answers 401 without the bearer token or with another, and the text format with it", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: token }]) {
      const res = await fetch(`${node().url}/metrics`, { headers })
      expect(res.status).toBe(401)
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/)
      expect(await res.json()).toMatchObject({ _tag: "Unauthorized" })
    }
    const metrics = await scrape(node().url, token)
    expect(metrics.types.get("plexichat_ws_frames_in_total")).toBe("counter")
    expect(metrics.types.get("plexichat_commit_latency_ms")).toBe("histogram")
    expect(metrics.value("plexichat_process_memory_bytes", { kind: "rss" })).toBeGreaterThan(0)
    expect(metrics.has("plexichat_event_loop_lag_ms", { stat: "p99" })).toBe(true)
    expect(metrics.value("effect_cluster_shards")).toBeGreaterThan(0)
  })

  it("counts posts, commits, deliveries to two subscribers and frames by type exactly", async () => {
    const alice = await signedIn(node().url, "alice")
    const bob = await signedIn(node().url, "bob")
    const { id: channelId } = await rest(node().url, alice.token).createChannel("metrics")
    await rest(node().url, bob.token).join(channelId)
    const [a, b] = await Promise.all([connect(node().wsUrl, alice.token), connect(node().wsUrl, bob.token)])
    for (const client of [a, b]) expect(await client.request({ type: "subscribe", channelId })).toMatchObject({ type: "subscribed" })

    const before = await scrape(node().url, token)
    const posts = 5
    for (let i = 0; i < posts; i++) {
      expect(await a.request({ type: "post", channelId, clientMsgId: `m${i}`, body: `hello ${i}` })).toMatchObject({ type: "ack" })
    }
    for (const client of [a, b]) await expect.poll(() => client.messages(channelId).length).toBe(posts)

    const delta = async (name: string, labels?: Record<string, string>) =>
      (await scrape(node().url, token)).value(name, labels) - before.value(name, labels)
    await expect.poll(() => delta("plexichat_messages_delivered_total")).toBe(2 * posts)
    expect(await delta("plexichat_ws_frames_in_total", { type: "post" })).toBe(posts)
    expect(await delta("plexichat_ws_frames_out_total", { type: "ack" })).toBe(posts)
    expect(await delta("plexichat_ws_frames_out_total", { type: "message" })).toBe(2 * posts)
    expect(await delta("plexichat_messages_posted_total")).toBe(posts)
    expect(await delta("plexichat_commit_batch_rows_sum")).toBe(posts)
    const batches = await delta("plexichat_commit_batch_rows_count")
    expect(batches).toBeGreaterThanOrEqual(1)
    expect(await delta("plexichat_commit_latency_ms_count")).toBe(batches)
    expect(await delta("plexichat_delivery_latency_ms_count")).toBe(posts)
    expect(await delta("plexichat_delivery_latency_ms_bucket", { le: "+Inf" })).toBe(posts)

    const after = await scrape(node().url, token)
    expect(after.value("plexichat_ws_connections")).toBe(2)
    await expect.poll(async () => (await scrape(node().url, token)).value("effect_cluster_entities", { type: "Channel" }))
      .toBeGreaterThanOrEqual(1)
    a.socket.close()
    b.socket.close()
  })

  it("counts refused frames, rate-limit hits and errors by tag", async () => {
    const carol = await signedIn(node().url, "carol")
    const c = await connect(node().wsUrl, carol.token)
    const before = await scrape(node().url, token)
    const delta = async (name: string, labels?: Record<string, string>) =>
      (await scrape(node().url, token)).value(name, labels) - before.value(name, labels)

    c.send("{not json")
    await c.waitFor((f) => f.type === "error" && f.code === "bad_json")
    const missing = await c.request({ type: "post", channelId: "c_doesnotexist", clientMsgId: "x", body: "hi" })
    expect(missing).toMatchObject({ type: "error", code: "channel_not_found" })
    expect((await fetch(`${node().url}/api/v1/no/such/route`)).status).toBe(404)

    // 30 pings at once against a bucket of 20 (and less now): the rest are refused, each answered with its ref.
    const from = c.frames.length
    for (let i = 0; i < 30; i++) c.send({ type: "ping", ref: `p${i}` })
    await expect.poll(() => c.all((f) => f.ref?.startsWith("p") === true, from).length).toBe(30)
    const refused = c.all((f) => f.type === "error" && f.code === "rate_limited", from).length
    expect(refused).toBeGreaterThan(0)
    expect(c.all((f) => f.type === "pong", from).length).toBe(30 - refused)

    expect(await delta("plexichat_ws_frames_in_total", { type: "invalid" })).toBe(1)
    expect(await delta("plexichat_ws_frames_in_total", { type: "rate_limited" })).toBe(refused)
    expect(await delta("plexichat_ws_frames_in_total", { type: "ping" })).toBe(30 - refused)
    expect(await delta("plexichat_rate_limited_total", { limit: "ws_frames" })).toBe(refused)
    expect(await delta("plexichat_errors_total", { door: "ws", tag: "bad_json" })).toBe(1)
    expect(await delta("plexichat_errors_total", { door: "ws", tag: "ChannelNotFound" })).toBe(1)
    expect(await delta("plexichat_errors_total", { door: "ws", tag: "rate_limited" })).toBe(refused)
    expect(await delta("plexichat_errors_total", { door: "http", tag: "NotFound" })).toBe(1)
    c.socket.close()
  })

  it("counts typed RPC failures by tag, the protocol check's and authentication's included, and not as HTTP errors", async () => {
    const dave = await signedIn(node().url, "dave")
    const before = await scrape(node().url, token)
    const delta = async (name: string, labels?: Record<string, string>) =>
      (await scrape(node().url, token)).value(name, labels) - before.value(name, labels)
    expect(await failure(rpc(node(), (c) => c.History({ channelId: "c_doesnotexist" as never }), dave.token))).toMatchObject({ _tag: "ChannelNotFound" })
    expect(await failure(rpc(node(), (c) => c.ClusterStatus({}), dave.token))).toMatchObject({ _tag: "Forbidden" })
    expect(await failure(rpc(node(), (c) => c.ClusterStatus({}), dave.token))).toMatchObject({ _tag: "Forbidden" })
    expect(await failure(rpc(node(), (c) => c.Me({})))).toMatchObject({ _tag: "Unauthorized" })
    const incompatible = await fetch(`${node().url}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/ndjson", "plexi-protocol": "9.0" },
      body: `${JSON.stringify({ _tag: "Request", id: "1", tag: "Me", payload: {}, headers: [] })}\n`
    })
    expect(incompatible.status).toBe(200)
    expect(await incompatible.text()).toContain("IncompatibleProtocol")
    expect(await delta("plexichat_errors_total", { door: "rpc", tag: "ChannelNotFound" })).toBe(1)
    expect(await delta("plexichat_errors_total", { door: "rpc", tag: "Forbidden" })).toBe(2)
    expect(await delta("plexichat_errors_total", { door: "rpc", tag: "Unauthorized" })).toBe(1)
    expect(await delta("plexichat_errors_total", { door: "rpc", tag: "IncompatibleProtocol" })).toBe(1)
    // The answers were 200 NDJSON: the HTTP door counted none of them.
    expect(await delta("plexichat_errors_total", { door: "http", tag: "200" })).toBe(0)
  })
})

describe("a node with PLEXI_METRICS_ENABLED=false", () => {
  const node = nodeForSuite({ env: { PLEXI_METRICS_ENABLED: "false" } })

  it("has no /metrics route", async () => {
    const res = await fetch(`${node().url}/metrics`)
    expect(res.status).toBe(404)
  })
})

/** A port from the OS for the node's metrics server, taken before its suite starts the node. */
const port = await freePort()

describe("a node with PLEXI_METRICS_PORT", () => {
  const node = nodeForSuite({ env: { PLEXI_METRICS_PORT: String(port), PLEXI_METRICS_HOST: "127.0.0.1", PLEXI_METRICS_TOKEN: token } })

  it("serves /metrics on that port only, with the same token rule", async () => {
    expect((await fetch(`${node().url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404)
    const url = `http://127.0.0.1:${port}`
    expect((await fetch(`${url}/metrics`)).status).toBe(401)
    expect((await fetch(`${url}/other`)).status).toBe(404)
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(parsePrometheus(await res.text()).value("effect_cluster_shards")).toBeGreaterThan(0)
  })
})
