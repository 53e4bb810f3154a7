/**
 * One post is one trace across two real nodes: a WebSocket post on the node
 * that does not own the channel, exported over OTLP/HTTP (JSON) by both
 * nodes to an in-process receiver. The poster's spans (`plexichat.post` →
 * `plexichat.admit`, `plexichat.outbox`) and the owner's (the cluster RPC's
 * server span `Channel(<id>).Post` → `plexichat.commit` → `plexichat.fanout`)
 * share one trace id and form one tree: the context crossed the cluster RPC;
 * and each edge following the channel adds `plexichat.deliver` under the
 * owner's fan-out, the context having come with the feed chunk.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ownedChannel } from "../fixtures/ClusterHelpers.ts"
import { WsClient } from "../fixtures/Clients.ts"
import { clusterForSuite } from "../fixtures/ClusterSuite.ts"
import { type OtlpReceiver, startOtlpReceiver } from "../fixtures/OtlpReceiver.ts"

interface Span {
  readonly node: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly attributes: Record<string, unknown>
}

/** Every span received, with the node (`service.instance.id`) that exported it. */
const spansOf = (receiver: OtlpReceiver): Array<Span> =>
  receiver.traces.flatMap((body: any) =>
    body.resourceSpans.flatMap((r: any) => {
      const node = r.resource.attributes.find((a: any) => a.key === "service.instance.id")?.value.stringValue
      return r.scopeSpans.flatMap((s: any) =>
        s.spans.map((span: any) => ({
          node,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId,
          name: span.name,
          attributes: Object.fromEntries((span.attributes ?? []).map((a: any) => [a.key, Object.values(a.value)[0]]))
        }))
      )
    })
  )

let receiver: OtlpReceiver
beforeAll(async () => {
  receiver = await startOtlpReceiver()
})
afterAll(async () => {
  await receiver?.close()
})

describe("a sampled post across two nodes", () => {
  const cluster = clusterForSuite({
    prefix: "trace",
    size: 2,
    node: { env: { get PLEXI_OTEL_ENDPOINT() { return receiver.url }, PLEXI_OTEL_SAMPLE_RATIO: "1", PLEXI_OTEL_SERVICE_NAME: "plexichat-trace" } }
  })

  it("is one trace from the edge's post through the owner's entity, commit and fan-out", async () => {
    const { token, channel, owner, others } = await ownedChannel(cluster.nodes, "alice", "traced")
    const edge = others[0]!
    // A subscriber on each node: both edges follow the channel (the owner's through a tap, the other through a stream).
    const [client, watcher] = await Promise.all([WsClient.connect(edge.wsUrl, token), WsClient.connect(owner.wsUrl, token)])
    for (const c of [client, watcher]) {
      await c.waitFor((f) => f.type === "hello")
      expect(await c.request({ type: "subscribe", channelId: channel.id })).toMatchObject({ type: "subscribed" })
    }
    expect(await client.request({ type: "post", channelId: channel.id, clientMsgId: "t1", body: "traced" })).toMatchObject({ type: "ack" })
    for (const c of [client, watcher]) await expect.poll(() => c.messages(channel.id).length).toBe(1)
    client.socket.close()
    watcher.socket.close()

    const roots = () => spansOf(receiver).filter((s) => s.name === "plexichat.post" && s.attributes["plexichat.channel_id"] === channel.id)
    await expect.poll(() => roots().length, { timeout: 15_000 }).toBe(1)
    const root = roots()[0]!
    const named = (name: string) => spansOf(receiver).filter((s) => s.traceId === root.traceId && s.name === name)
    await expect.poll(() => named("plexichat.fanout").length + named("plexichat.deliver").length, { timeout: 15_000 }).toBe(3)
    const trace = spansOf(receiver).filter((s) => s.traceId === root.traceId)
    const byId = new Map(trace.map((s) => [s.spanId, s]))
    /** The names from `span` up to the root, following parent ids (an unknown parent ends the chain). */
    const chain = (span: Span): Array<string> => {
      const names = [span.name]
      for (let p = span.parentSpanId; p !== undefined && p !== "" && byId.has(p); p = byId.get(p)!.parentSpanId) names.push(byId.get(p)!.name)
      return names
    }

    expect(root.node).toBe(edge.name)
    expect(root.parentSpanId ?? "").toBe("")
    const [admit] = named("plexichat.admit")
    const [outbox] = named("plexichat.outbox")
    expect(admit).toMatchObject({ node: edge.name, parentSpanId: root.spanId })
    expect(outbox).toMatchObject({ node: edge.name, parentSpanId: root.spanId })

    const [server] = named(`Channel(${channel.id}).Post`)
    expect(server, `spans: ${trace.map((s) => `${s.node} ${s.name}`).join(", ")}`).toBeDefined()
    expect(server!.node).toBe(owner.name)
    const [commit] = named("plexichat.commit")
    const [fanout] = named("plexichat.fanout")
    expect(commit).toMatchObject({ node: owner.name })
    expect(fanout).toMatchObject({ node: owner.name, parentSpanId: commit!.spanId })
    // The owner's spans hang under the poster's outbox span: one tree across the RPC.
    const fromFanout = chain(fanout!)
    expect(fromFanout[0]).toBe("plexichat.fanout")
    expect(fromFanout).toContain("plexichat.commit")
    expect(fromFanout).toContain(`Channel(${channel.id}).Post`)
    expect(fromFanout).toContain("plexichat.outbox")
    expect(fromFanout.at(-1)).toBe("plexichat.post")
    // Each edge's delivery continues the trace from the owner's fan-out, the other node's through its feed stream.
    const delivers = named("plexichat.deliver")
    expect(new Set(delivers.map((s) => s.node))).toEqual(new Set([owner.name, edge.name]))
    for (const d of delivers) expect(d).toMatchObject({ parentSpanId: fanout!.spanId, attributes: { "plexichat.channel_id": channel.id } })
    // Every span of the trace reaches the root.
    for (const span of trace) expect(chain(span).at(-1), `${span.node} ${span.name}`).toBe("plexichat.post")
  }, 60_000)

  it("is one trace on the owner too, where the traced post's batch goes to the local entity the direct way", async () => {
    const { token, channel, owner } = await ownedChannel(cluster.nodes, "bob", "traced-local")
    const client = await WsClient.connect(owner.wsUrl, token)
    await client.waitFor((f) => f.type === "hello")
    expect(await client.request({ type: "subscribe", channelId: channel.id })).toMatchObject({ type: "subscribed" })
    expect(await client.request({ type: "post", channelId: channel.id, clientMsgId: "t2", body: "local" })).toMatchObject({ type: "ack" })
    await expect.poll(() => client.messages(channel.id).length).toBe(1)
    client.socket.close()
    const root = () => spansOf(receiver).find((s) => s.name === "plexichat.post" && s.attributes["plexichat.channel_id"] === channel.id)
    await expect.poll(() => root() !== undefined, { timeout: 15_000 }).toBe(true)
    const inTrace = () => spansOf(receiver).filter((s) => s.traceId === root()!.traceId)
    await expect.poll(() => inTrace().some((s) => s.name === "plexichat.deliver"), { timeout: 15_000 }).toBe(true)
    expect(new Set(inTrace().map((s) => s.node))).toEqual(new Set([owner.name]))
    const one = (name: string) => {
      const found = inTrace().filter((s) => s.name === name)
      expect(found, `${name} in ${inTrace().map((s) => s.name).join(", ")}`).toHaveLength(1)
      return found[0]!
    }
    // The direct path makes its spans in callbacks (no fiber), in the same tree as the Effect way's.
    const post = one("plexichat.post")
    expect(one("plexichat.admit")).toMatchObject({ parentSpanId: post.spanId })
    const outbox = one("plexichat.outbox")
    expect(outbox).toMatchObject({ parentSpanId: post.spanId, attributes: { "plexichat.channel_id": channel.id, "plexichat.batch_size": 1 } })
    const commit = one("plexichat.commit")
    expect(commit).toMatchObject({ parentSpanId: outbox.spanId, attributes: { "plexichat.rows": 1 } })
    const fanout = one("plexichat.fanout")
    expect(fanout).toMatchObject({ parentSpanId: commit.spanId })
    expect(one("plexichat.deliver")).toMatchObject({ parentSpanId: fanout.spanId })
  }, 60_000)
})
