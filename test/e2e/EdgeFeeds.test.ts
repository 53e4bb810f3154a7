/**
 * An edge follows a channel once, however many of its sockets subscribe, and
 * lets go when the last one leaves.
 */
import { describe, expect, it } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest, WsClient } from "../fixtures/Clients.ts"
import type { NodeProcess } from "../fixtures/NodeProcess.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

const feedsOf = async (node: NodeProcess) =>
  ((await (await fetch(`${node.url}/api/v1/health`)).json()) as { feeds: number }).feeds

describe("edge feeds", () => {
  const node = nodeForSuite()

  it("opens one feed per channel for many local subscribers, delivers each message once to each, and closes it when the last leaves", async () => {
    const { token } = await signedIn(node().url, "feeder")
    const api = rest(node().url, token)
    const channel = await api.createChannel("shared")
    expect(await feedsOf(node())).toBe(0)

    const clients = await Promise.all([0, 1, 2].map(() => WsClient.connect(node().wsUrl, token)))
    for (const c of clients) {
      c.send({ type: "subscribe", channelId: channel.id })
      await c.waitFor((f) => f.type === "subscribed")
    }
    expect(await feedsOf(node())).toBe(1)

    for (let i = 1; i <= 5; i++) await api.post(channel.id, `m${i}`, `message ${i}`)
    for (const c of clients) {
      await c.waitFor((f) => f.type === "message" && f.message.seq === 5)
      expect(c.messages(channel.id).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5])
    }

    // Two leave (one unsubscribes, one disconnects): the feed stays for the third.
    clients[0]!.send({ type: "unsubscribe", channelId: channel.id })
    await clients[0]!.waitFor((f) => f.type === "unsubscribed")
    clients[1]!.close()
    await api.post(channel.id, "m6", "message 6")
    await clients[2]!.waitFor((f) => f.type === "message" && f.message.seq === 6)
    expect(await feedsOf(node())).toBe(1)
    expect(clients[0]!.messages(channel.id).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5])

    // The last one leaves: the edge drops its subscription to the channel.
    clients[2]!.close()
    await expect.poll(() => feedsOf(node()), { timeout: 5000, interval: 50 }).toBe(0)
    clients[0]!.close()
  }, 30_000)
})
