/**
 * Three real node processes on loopback against one Postgres database.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { devToken, rest, WsClient } from "../fixtures/Clients.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const ownerOf = async (nodes: ReadonlyArray<NodeProcess>, channelId: string) => {
  for (const node of nodes) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) continue
    const res = await fetch(`${node.url}/api/v1/cluster/channels/${channelId}`)
    const body = await res.json() as { ownedHere: boolean }
    if (body.ownedHere) return node
  }
  return undefined
}

/** Posts over a WebSocket, one at a time, retrying the same clientMsgId until acknowledged. */
const poster = (client: WsClient, channelId: string) => {
  const acked = new Map<string, number>()
  const ackTimes: Array<number> = []
  let stopped = false
  let n = 0
  const done = (async () => {
    while (!stopped) {
      const clientMsgId = `m${++n}`
      while (!stopped) {
        const from = client.frames.length
        client.send({ type: "post", channelId, clientMsgId, body: `msg ${n}`, ref: clientMsgId })
        const reply = await client.waitFor((f) => f.ref === clientMsgId && (f.type === "ack" || f.type === "error"), 15_000, from)
          .catch(() => undefined)
        if (reply?.type === "ack") {
          acked.set(clientMsgId, reply.seq)
          ackTimes.push(Date.now())
          break
        }
        await sleep(50)
      }
      await sleep(10)
    }
  })()
  return {
    acked,
    ackTimes,
    stop: async () => {
      stopped = true
      await done
    }
  }
}

describe("cluster of 3 node processes", () => {
  let db: TestDatabase
  let nodes: Array<NodeProcess> = []

  beforeAll(async () => {
    db = await makeTestDatabase()
    nodes = await Promise.all(["a", "b", "c"].map((name) => startNode({ name, databaseUrl: db.url })))
    // Let the runners see each other and settle the shard assignment.
    await sleep(3000)
  }, 90_000)

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})))
    await db?.drop()
  }, 60_000)

  it("spreads the shards over all three nodes", async () => {
    const shards = await Promise.all(nodes.map(async (n) => ((await (await fetch(`${n.url}/api/v1/health`)).json()) as { shards: number }).shards))
    expect(shards.reduce((a, b) => a + b, 0)).toBe(100)
    for (const s of shards) expect(s).toBeGreaterThan(0)
  })

  it("delivers a message posted on node C to a client on node A", async () => {
    const [a, , c] = nodes
    const token = await devToken(a!.url, "alice")
    const channel = await rest(a!.url, token).createChannel("cross-node")
    const ws = await WsClient.connect(a!.wsUrl, token)
    ws.send({ type: "subscribe", channelId: channel.id })
    await ws.waitFor((f) => f.type === "subscribed")
    const posted = await rest(c!.url, token).post(channel.id, "x1", "hello from C")
    const received = await ws.waitFor((f) => f.type === "message")
    expect(received.message).toMatchObject({ seq: posted.seq, body: "hello from C", channelId: channel.id })
    ws.close()
  })

  it("after kill -9 of the node owning a busy channel, posting resumes within 10 s and every acknowledged message is delivered exactly once", async () => {
    const token = await devToken(nodes[0]!.url, "bob")
    const channel = await rest(nodes[0]!.url, token).createChannel("busy")
    const owner = await ownerOf(nodes, channel.id)
    expect(owner).toBeDefined()
    const [subscriberNode, posterNode] = nodes.filter((n) => n !== owner)

    // A subscriber that stays connected across the failover, and one that
    // disconnects before the kill and resumes from its last seq afterwards.
    const follower = await WsClient.connect(subscriberNode!.wsUrl, token)
    follower.send({ type: "subscribe", channelId: channel.id, lastSeq: 0 })
    await follower.waitFor((f) => f.type === "subscribed")
    let resumer = await WsClient.connect(posterNode!.wsUrl, token)
    resumer.send({ type: "subscribe", channelId: channel.id, lastSeq: 0 })
    await resumer.waitFor((f) => f.type === "subscribed")

    // A private channel on the same doomed owner, followed on another node by a member who leaves during the
    // failover: whether that node's feed gets the leave live or reopens after it, her feed must stop.
    const api = rest(nodes[0]!.url, token)
    let secret = await api.createChannel("secret", "private")
    for (let i = 0; i < 40 && (await ownerOf(nodes, secret.id)) !== owner; i++) secret = await api.createChannel("secret", "private")
    expect(await ownerOf(nodes, secret.id)).toBe(owner)
    await api.call("POST", `/channels/${secret.id}/members`, { userId: "dora" })
    const doraToken = await devToken(subscriberNode!.url, "dora")
    const dora = await WsClient.connect(subscriberNode!.wsUrl, doraToken)
    await dora.request({ type: "subscribe", channelId: secret.id })
    await api.post(secret.id, "before", "before the failover")
    await dora.waitFor((f) => f.type === "message" && f.message.channelId === secret.id)

    const posting = await WsClient.connect(posterNode!.wsUrl, token)
    const load = poster(posting, channel.id)
    await sleep(1500)
    resumer.close()
    const resumerSeen = resumer.messages(channel.id).map((m) => m.seq)
    const resumeFrom = resumerSeen.length > 0 ? resumerSeen[resumerSeen.length - 1]! : 0

    const ackedBeforeKill = load.acked.size
    expect(ackedBeforeKill).toBeGreaterThan(10)
    const killedAt = Date.now()
    await owner!.kill9()
    nodes = nodes.filter((n) => n !== owner)
    const doraLeaves = rest(posterNode!.url, doraToken).call("POST", `/channels/${secret.id}/leave`)

    // Wait for the first acknowledgement of a post made after the kill.
    const deadline = killedAt + 20_000
    while (Date.now() < deadline && !load.ackTimes.some((t) => t > killedAt + 50)) await sleep(50)
    const firstAckAfterKill = load.ackTimes.find((t) => t > killedAt + 50)
    expect(firstAckAfterKill).toBeDefined()
    const failoverMs = firstAckAfterKill! - killedAt
    console.log(`failover: first post acknowledged ${failoverMs} ms after kill -9`)
    expect(failoverMs).toBeLessThan(10_000)

    await sleep(1500)
    await load.stop()
    posting.close()

    const ackedSeqs = [...load.acked.values()].sort((x, y) => x - y)
    const total = ackedSeqs.length
    // Acknowledged seqs are exactly 1..n: gap-free, no duplicates.
    expect(ackedSeqs).toEqual(Array.from({ length: total }, (_, i) => i + 1))

    // Nothing acknowledged is lost: history on a survivor has every message once.
    const history = await rest(subscriberNode!.url, token).history(channel.id, 0, 1000)
    expect(history.map((m) => m.seq)).toEqual(ackedSeqs)

    // The connected follower saw every acknowledged message exactly once, in order.
    await follower.waitFor((f) => f.type === "message" && f.message.seq === total, 15_000)
    expect(follower.messages(channel.id).map((m) => m.seq)).toEqual(ackedSeqs)

    // A client resuming from its last seq gets exactly the missing ones, then live.
    resumer = await WsClient.connect(subscriberNode!.wsUrl, token)
    resumer.send({ type: "subscribe", channelId: channel.id, lastSeq: resumeFrom })
    await resumer.waitFor((f) => f.type === "subscribed")
    const live = await rest(subscriberNode!.url, token).post(channel.id, "after-resume", "live again")
    await resumer.waitFor((f) => f.type === "message" && f.message.seq === live.seq)
    expect(resumer.messages(channel.id).map((m) => m.seq)).toEqual(
      Array.from({ length: live.seq - resumeFrom }, (_, i) => resumeFrom + i + 1)
    )
    expect((await doraLeaves).status).toBe(200)
    await dora.waitFor((f) => f.type === "unsubscribed" && f.channelId === secret.id && f.reason === "not_a_member", 15_000)
    const afterLeave = await rest(posterNode!.url, token).post(secret.id, "after", "after dora left")
    await sleep(1500)
    expect(dora.messages(secret.id).map((m) => m.seq)).not.toContain(afterLeave.seq)
    follower.close()
    resumer.close()
    dora.close()
  }, 90_000)

  it("a graceful SIGTERM of the owner hands its busy channel over and the connected follower misses nothing", async () => {
    expect(nodes.length).toBe(2)
    const token = await devToken(nodes[0]!.url, "carol")
    const channel = await rest(nodes[0]!.url, token).createChannel("handover")
    const owner = await ownerOf(nodes, channel.id)
    expect(owner).toBeDefined()
    const survivor = nodes.find((n) => n !== owner)!

    const follower = await WsClient.connect(survivor.wsUrl, token)
    follower.send({ type: "subscribe", channelId: channel.id, lastSeq: 0 })
    await follower.waitFor((f) => f.type === "subscribed")
    const posting = await WsClient.connect(survivor.wsUrl, token)
    const load = poster(posting, channel.id)
    await sleep(1000)

    const stoppedAt = Date.now()
    await owner!.stop()
    const stopMs = Date.now() - stoppedAt
    nodes = nodes.filter((n) => n !== owner)
    while (Date.now() < stoppedAt + 20_000 && !load.ackTimes.some((t) => t > stoppedAt + 50)) await sleep(50)
    const firstAck = load.ackTimes.find((t) => t > stoppedAt + 50)
    expect(firstAck).toBeDefined()
    console.log(`graceful hand-over: owner exited after ${stopMs} ms, first post acknowledged ${firstAck! - stoppedAt} ms after SIGTERM`)
    expect(firstAck! - stoppedAt).toBeLessThan(10_000)

    await sleep(1000)
    await load.stop()
    const ackedSeqs = [...load.acked.values()].sort((x, y) => x - y)
    expect(ackedSeqs).toEqual(Array.from({ length: ackedSeqs.length }, (_, i) => i + 1))
    await follower.waitFor((f) => f.type === "message" && f.message.seq === ackedSeqs.length, 15_000)
    expect(follower.messages(channel.id).map((m) => m.seq)).toEqual(ackedSeqs)
    follower.close()
    posting.close()
  }, 90_000)
})
