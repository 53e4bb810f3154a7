/**
 * Private channels on one edge: who may follow them, and what happens when a
 * member leaves or a subscribe is cancelled while it is still attaching. To
 * a non-member a private channel does not exist: every answer is the one a
 * missing channel gets.
 */
import { describe, expect, it } from "vitest"
import { authClient, signedIn } from "../fixtures/AuthClient.ts"
import { type Frame, rest, WsClient } from "../fixtures/Clients.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

describe("private channels on an edge", () => {
  const node = nodeForSuite()

  const setup = async () => {
    const { token: alice } = await signedIn(node().url, `alice-${Math.random().toString(36).slice(2, 8)}`)
    const api = rest(node().url, alice)
    const channel = await api.createChannel("secret", "private")
    return { alice, api, channelId: channel.id }
  }

  it("refuses a non-member's subscribe with a lastSeq (channel_not_found) even while a member's feed has the messages in the edge's ring", async () => {
    const { alice, api, channelId } = await setup()
    const member = await WsClient.connect(node().wsUrl, alice)
    await member.request({ type: "subscribe", channelId })
    await api.post(channelId, "s1", "first secret")
    await api.post(channelId, "s2", "second secret")
    await member.waitFor((f) => f.type === "message" && f.message.seq === 2)

    const mallory = await WsClient.connect(node().wsUrl, (await signedIn(node().url, "mallory")).token)
    for (const lastSeq of [0, 1, 2]) {
      const reply = await mallory.request({ type: "subscribe", channelId, lastSeq })
      expect(reply).toMatchObject({ type: "error", code: "channel_not_found", channelId })
    }
    await api.post(channelId, "s3", "third secret")
    await member.waitFor((f) => f.type === "message" && f.message.seq === 3)
    // seq 3 was published before this ping reached the node, so a leak to mallory would come before the pong.
    expect(await mallory.request({ type: "ping" })).toMatchObject({ type: "pong" })
    expect(mallory.all((f) => f.type === "message")).toEqual([])
    member.close()
    mallory.close()
  })

  it("stops a member's live feed when they leave a private channel, with an unsubscribed frame", async () => {
    const { alice, api, channelId } = await setup()
    const { token: bobToken, userId: bobId } = await signedIn(node().url, "bob-leaver")
    await api.call("POST", `/channels/${channelId}/members`, { userId: bobId })
    const bob = await WsClient.connect(node().wsUrl, bobToken)
    await bob.request({ type: "subscribe", channelId })
    const owner = await WsClient.connect(node().wsUrl, alice)
    await owner.request({ type: "subscribe", channelId })
    await api.post(channelId, "b1", "before bob leaves")
    await bob.waitFor((f) => f.type === "message" && f.message.seq === 1)

    const left = await rest(node().url, bobToken).call("POST", `/channels/${channelId}/leave`)
    expect(left.status).toBe(200)
    await bob.waitFor((f) => f.type === "unsubscribed" && f.channelId === channelId && f.reason === "not_a_member")
    await api.post(channelId, "b2", "after bob left")
    // The owner's copy of seq 2 went out with the same publish; bob's pong comes after anything sent to him before.
    await owner.waitFor((f) => f.type === "message" && f.message.seq === 2)
    expect(await bob.request({ type: "ping" })).toMatchObject({ type: "pong" })
    expect(bob.messages(channelId).map((m) => m.seq)).toEqual([1])
    // The socket itself stays usable.
    expect(await bob.request({ type: "ping" })).toMatchObject({ type: "pong" })
    bob.close()
    owner.close()
  })

  it("answers a signed-up non-member, and a member once they left, exactly as for a missing channel on every frame", async () => {
    const unique = Math.random().toString(36).slice(2, 8)
    const password = "a private passphrase of some length"
    const owner = await authClient(node().url).signUp(`owner-${unique}`, password)
    const leaver = await authClient(node().url).signUp(`leaver-${unique}`, password)
    const stranger = await authClient(node().url).signUp(`stranger-${unique}`, password)
    const api = rest(node().url, owner.accessToken)
    const channelId = (await api.createChannel("board", "private")).id
    await api.post(channelId, "p1", "secret")
    await api.call("POST", `/channels/${channelId}/members`, { userId: leaver.userId })
    expect((await rest(node().url, leaver.accessToken).call("POST", `/channels/${channelId}/leave`)).status).toBe(200)
    const missingId = `c_missing${unique}`
    /** A frame with its ref dropped and the channel id masked. */
    const shape = (frame: Frame, id: string) => {
      const { ref: _ref, ...rest } = frame
      return JSON.parse(JSON.stringify(rest).replaceAll(id, "<id>"))
    }
    for (const who of [stranger, leaver]) {
      const ws = await WsClient.connect(node().wsUrl, who.accessToken)
      for (const frame of [
        { type: "subscribe", lastSeq: 0 },
        { type: "subscribe" },
        { type: "history", afterSeq: 0 },
        { type: "post", clientMsgId: "x1", body: "let me in" }
      ]) {
        const secret = await ws.request({ ...frame, channelId })
        const missing = await ws.request({ ...frame, channelId: missingId })
        expect(secret).toMatchObject({ type: "error", code: "channel_not_found" })
        expect(shape(secret, channelId)).toEqual(shape(missing, missingId))
      }
      expect(ws.all((f) => f.type === "message")).toEqual([])
      ws.close()
    }
    expect((await api.history(channelId)).map((m) => m.clientMsgId)).toEqual(["p1"])
  })

  it("follows from the head when lastSeq is beyond it, without repeating or waiting", async () => {
    const { alice, api, channelId } = await setup()
    await api.post(channelId, "h1", "one")
    const client = await WsClient.connect(node().wsUrl, alice)
    const subscribed = await client.request({ type: "subscribe", channelId, lastSeq: 99 }, 5000)
    expect(subscribed).toMatchObject({ type: "subscribed", head: 1 })
    await api.post(channelId, "h2", "two")
    await client.waitFor((f) => f.type === "message" && f.message.seq === 2)
    expect(client.messages(channelId).map((m) => m.seq)).toEqual([2])
    client.close()
  })

  it("refuses a second auth frame for another user on an authenticated socket", async () => {
    const { alice } = await setup()
    const client = await WsClient.connect(node().wsUrl, alice)
    const reply = await client.request({ type: "auth", token: (await signedIn(node().url, "someone-else")).token })
    expect(reply).toMatchObject({ type: "error", code: "unauthorized" })
    expect(await client.request({ type: "ping" })).toMatchObject({ type: "pong" })
    client.close()
  })

  it("lets a client cancel a subscribe that is still attaching, and releases the edge's feed", async () => {
    const { alice, channelId } = await setup()
    const client = await WsClient.connect(node().wsUrl, alice)
    client.send({ type: "subscribe", channelId, ref: "sub" })
    const cancelled = await client.request({ type: "unsubscribe", channelId })
    expect(cancelled).toMatchObject({ type: "unsubscribed", channelId })
    // Whatever the attach answers, the socket does not end up following the channel.
    await expect.poll(async () =>
      ((await (await fetch(`${node().url}/api/v1/health`)).json()) as { feeds: number }).feeds, { timeout: 5000, interval: 50 }
    ).toBe(0)
    client.close()
  })
})
