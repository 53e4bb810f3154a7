/**
 * OTLP metrics export of a real node to an in-process OTLP/HTTP receiver:
 * the pushed metrics carry the node's resource and the counters move with
 * what a client did.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest } from "../fixtures/Clients.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { metricsByName, type OtlpReceiver, resourceAttributes, startOtlpReceiver } from "../fixtures/OtlpReceiver.ts"

const pointValue = (metric: any) =>
  (metric?.sum?.dataPoints ?? []).reduce((sum: number, p: any) => sum + Number(p.asDouble ?? p.asInt ?? 0), 0)

describe("a node with PLEXI_OTEL_ENDPOINT", () => {
  let receiver: OtlpReceiver
  let node: NodeProcess

  beforeAll(async () => {
    receiver = await startOtlpReceiver()
    node = await startNode({
      env: { PLEXI_OTEL_ENDPOINT: receiver.url, PLEXI_OTEL_SERVICE_NAME: "plexichat-test", PLEXI_OTEL_METRICS_INTERVAL: "200 millis" }
    })
  }, 60_000)

  afterAll(async () => {
    await node?.stop()
    await receiver?.close()
  })

  it("pushes its metrics as OTLP JSON with its service name and node id, counting the messages posted", async () => {
    const alice = await signedIn(node.url, "alice")
    const api = rest(node.url, alice.token)
    const { id: channelId } = await api.createChannel("otlp")
    for (let i = 0; i < 3; i++) await api.post(channelId, `o${i}`, `otlp ${i}`)
    await expect.poll(() => {
      const last = receiver.metrics.at(-1)
      return last === undefined ? -1 : pointValue(metricsByName(last).get("plexichat_messages_posted_total"))
    }, { timeout: 10_000 }).toBe(3)
    const last = receiver.metrics.at(-1)
    expect(resourceAttributes(last)).toMatchObject({ "service.name": "plexichat-test", "service.instance.id": node.name })
    const names = metricsByName(last)
    expect(names.has("plexichat_commit_latency_ms")).toBe(true)
    expect(names.has("plexichat_process_memory_bytes")).toBe(true)
    expect(receiver.traces).toEqual([])
  })
})
