/**
 * The happy paths of one real node process: health, OpenAPI, REST channels
 * and messages, idempotent posts, WebSocket resume and fan-out, private
 * channels; on the embedded PGlite store and on Postgres (DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { type Frame, rest, WsClient } from "../fixtures/Clients.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

const connect = async (node: NodeProcess, token: string) => {
  const client = await WsClient.connect(node.wsUrl, token)
  await client.waitFor((f) => f.type === "hello")
  return client
}

const health = async (node: NodeProcess) => {
  const res = await fetch(`${node.url}/api/v1/health`)
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

describe("a single node on the embedded PGlite store", () => {
  let node: NodeProcess
  let alice: string
  let bob: string
  let carol: string
  let aliceApi: ReturnType<typeof rest>
  let bobApi: ReturnType<typeof rest>
  let carolApi: ReturnType<typeof rest>
  /** The ids the node gave the three users (`u_…`). */
  const id = { alice: "", bob: "", carol: "" }

  beforeAll(async () => {
    node = await startNode()
    ;[alice, bob, carol] = await Promise.all((["alice", "bob", "carol"] as const).map(async (name) => {
      const user = await signedIn(node.url, name)
      id[name] = user.userId
      return user.token
    })) as [string, string, string]
    aliceApi = rest(node.url, alice)
    bobApi = rest(node.url, bob)
    carolApi = rest(node.url, carol)
  })

  afterAll(async () => {
    await node?.stop()
  })

  it("reports health with the native uWS engine and the pglite database", async () => {
    const h = await health(node)
    expect(h).toMatchObject({ status: "ok", nodeId: node.name, websocketEngine: "uws-native", database: "pglite", cluster: "single" })
    expect(h.shards).toBeGreaterThan(0)
    expect(typeof h.connections).toBe("number")
  })

  it("is ready on its embedded database, with every shard (readiness, /api/v1/ready)", async () => {
    const res = await fetch(`${node.url}/api/v1/ready`)
    expect(res.status).toBe(200)
    const body = await res.json() as { shards: number }
    expect(body).toMatchObject({ status: "ready", nodeId: node.name })
    expect(body.shards).toBe(100)
  })

  it("greets a WebSocket with hello naming the node, the native engine and the user", async () => {
    const client = await connect(node, alice)
    expect(client.frames[0]).toMatchObject({ type: "hello", nodeId: node.name, engine: "uws-native", userId: id.alice })
    expect(client.frames[0]!.maxFrameBytes).toBe(64 * 1024)
    client.close()
  })

  it("serves a valid OpenAPI document listing the channel paths", async () => {
    const res = await fetch(`${node.url}/api/v1/openapi.json`)
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toContain("application/json")
    const doc = (await res.json()) as {
      openapi: string
      info: { title: string; version: string }
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
    }
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/)
    expect(doc.info.title).toBe("PlexiChat API")
    expect(typeof doc.info.version).toBe("string")
    const paths = Object.keys(doc.paths)
    expect(paths).toEqual(expect.arrayContaining([
      "/api/v1/health",
      "/api/v1/auth/register",
      "/api/v1/channels",
      "/api/v1/channels/{channelId}/join",
      "/api/v1/channels/{channelId}/members",
      "/api/v1/channels/{channelId}/leave",
      "/api/v1/channels/{channelId}/messages"
    ]))
    expect(paths).not.toContain("/api/v1/dev/token")
    expect(Object.keys(doc.paths["/api/v1/channels"]!)).toContain("post")
    expect(Object.keys(doc.paths["/api/v1/channels/{channelId}/messages"]!)).toEqual(expect.arrayContaining(["get", "post"]))
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(Object.keys(operation.responses).length, `${method} ${path}`).toBeGreaterThan(0)
      }
    }
  })

  it("creates a channel, lets another user join, and keeps both users' posts in seq order in history", async () => {
    const created = await aliceApi.call("POST", "/channels", { name: "general" })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ name: "general", visibility: "public", createdBy: id.alice, members: [{ userId: id.alice, role: "owner" }] })
    const channelId = created.body.id as string
    expect(channelId).toMatch(/^c_/)

    const joined = await bobApi.join(channelId)
    expect(joined.members).toEqual(expect.arrayContaining([{ userId: id.alice, role: "owner" }, { userId: id.bob, role: "member" }]))

    const posted = await aliceApi.call("POST", `/channels/${channelId}/messages`, { clientMsgId: "a1", body: "hello bob" })
    expect(posted.status).toBe(201)
    expect(posted.body).toMatchObject({ id: `${channelId}:1`, channelId, seq: 1, authorId: id.alice, body: "hello bob", clientMsgId: "a1" })
    const second = await bobApi.post(channelId, "b1", "hi alice")
    expect(second).toMatchObject({ seq: 2, id: `${channelId}:2` })
    const third = await aliceApi.post(channelId, "a2", "how are you?")
    expect(third.seq).toBe(3)

    const history = await bobApi.history(channelId)
    expect(history.map((m) => [m.seq, m.authorId, m.body])).toEqual([
      [1, id.alice, "hello bob"],
      [2, id.bob, "hi alice"],
      [3, id.alice, "how are you?"]
    ])
    // afterSeq and limit page through it.
    expect((await aliceApi.history(channelId, 1, 1)).map((m) => m.seq)).toEqual([2])
    expect((await aliceApi.history(channelId, 3)).map((m) => m.seq)).toEqual([])
  })

  it("returns the same seq and id for a retried post and stores one copy", async () => {
    const channelId = (await aliceApi.createChannel("retries")).id
    await aliceApi.post(channelId, "before", "before")
    const first = await aliceApi.post(channelId, "retry-me", "only once")
    const retry = await aliceApi.post(channelId, "retry-me", "only once")
    expect(retry.seq).toBe(first.seq)
    expect(retry.id).toBe(first.id)
    // Concurrent retries of a new post agree too.
    const concurrent = await Promise.all(range(1, 5).map(() => aliceApi.post(channelId, "burst-retry", "concurrent")))
    expect(new Set(concurrent.map((m) => m.seq)).size).toBe(1)
    expect(new Set(concurrent.map((m) => m.id)).size).toBe(1)
    // A retry over the WebSocket gets the same answer as over REST.
    const client = await connect(node, alice)
    const ack = await client.request({ type: "post", channelId, clientMsgId: "retry-me", body: "only once" })
    expect(ack).toMatchObject({ type: "ack", seq: first.seq, id: first.id })
    client.close()

    const history = await aliceApi.history(channelId)
    expect(history.map((m) => m.clientMsgId)).toEqual(["before", "retry-me", "burst-retry"])
    expect(history.map((m) => m.seq)).toEqual([1, 2, 3])
    // The same clientMsgId from another author is another message.
    await bobApi.join(channelId)
    const bobs = await bobApi.post(channelId, "retry-me", "bob's own")
    expect(bobs.seq).toBe(4)
  })

  it("resumes a subscription from lastSeq with exactly the missing messages, then live ones, no gap and no duplicate", async () => {
    const channelId = (await aliceApi.createChannel("resume")).id
    for (const i of range(1, 10)) await aliceApi.post(channelId, `m${i}`, `message ${i}`)
    const client = await connect(node, alice)
    const subscribed = await client.request({ type: "subscribe", channelId, lastSeq: 4 })
    expect(subscribed).toMatchObject({ type: "subscribed", channelId, head: 10 })
    // The catch-up (5..10) arrives before `subscribed`.
    const subscribedAt = client.frames.indexOf(subscribed)
    expect(client.frames.slice(0, subscribedAt).filter((f) => f.type === "message").map((f) => f.message.seq)).toEqual(range(5, 10))

    for (const i of range(11, 15)) await aliceApi.post(channelId, `m${i}`, `message ${i}`)
    // Live posts from a WebSocket client too.
    const poster = await connect(node, alice)
    for (const i of range(16, 20)) {
      expect(await poster.request({ type: "post", channelId, clientMsgId: `m${i}`, body: `message ${i}` })).toMatchObject({ seq: i })
    }
    await client.waitFor((f) => f.type === "message" && f.message.seq === 20)
    await client.request({ type: "ping" })
    const received = client.messages(channelId)
    expect(received.map((m) => m.seq)).toEqual(range(5, 20))
    expect(received.map((m) => m.body)).toEqual(range(5, 20).map((i) => `message ${i}`))
    expect(received[0]).toMatchObject({ id: `${channelId}:5`, channelId, authorId: id.alice, clientMsgId: "m5" })
    expect(typeof received[0]!.createdAt).toBe("number")
    expect(poster.messages(channelId)).toEqual([])
    client.close()
    poster.close()
  })

  it("resumes posts made while a subscription is catching up without a gap or duplicate", async () => {
    const channelId = (await aliceApi.createChannel("resume-race")).id
    for (const i of range(1, 200)) await aliceApi.post(channelId, `m${i}`, `message ${i}`)
    const client = await connect(node, alice)
    client.send({ type: "subscribe", channelId, lastSeq: 0 })
    // Posts race the catch-up.
    const live = Promise.all(range(201, 260).map((i) => aliceApi.post(channelId, `m${i}`, `message ${i}`)))
    await client.waitFor((f) => f.type === "subscribed")
    await live
    await client.waitFor((f) => f.type === "message" && f.message.seq === 260)
    await client.request({ type: "ping" })
    expect(client.messages(channelId).map((m) => m.seq)).toEqual(range(1, 260))
    client.close()
  })

  it("delivers each message exactly once, in order, to two WebSocket clients on the same channel", async () => {
    const channelId = (await aliceApi.createChannel("fan-out")).id
    await bobApi.join(channelId)
    const a = await connect(node, alice)
    const b = await connect(node, bob)
    expect(await a.request({ type: "subscribe", channelId })).toMatchObject({ type: "subscribed", head: 0 })
    expect(await b.request({ type: "subscribe", channelId })).toMatchObject({ type: "subscribed", head: 0 })
    for (const i of range(1, 20)) {
      const [client, who] = i % 2 === 0 ? [a, "alice"] : [b, "bob"]
      expect(await client.request({ type: "post", channelId, clientMsgId: `${who}-${i}`, body: `${who} says ${i}` }))
        .toMatchObject({ type: "ack", seq: i })
    }
    for (const client of [a, b]) {
      await client.waitFor((f) => f.type === "message" && f.message.seq === 20)
      await client.request({ type: "ping" })
      const got = client.messages(channelId)
      expect(got.map((m) => m.seq)).toEqual(range(1, 20))
      expect(got.map((m) => m.body)).toEqual(range(1, 20).map((i) => `${i % 2 === 0 ? "alice" : "bob"} says ${i}`))
    }
    a.close()
    b.close()
  })

  it("stops delivering after unsubscribe while other subscribers keep receiving", async () => {
    const channelId = (await aliceApi.createChannel("unsubscribe")).id
    const leaving = await connect(node, alice)
    const witness = await connect(node, alice)
    await leaving.request({ type: "subscribe", channelId })
    await witness.request({ type: "subscribe", channelId })
    await aliceApi.post(channelId, "u1", "everyone sees this")
    await leaving.waitFor((f) => f.type === "message" && f.message.seq === 1)

    expect(await leaving.request({ type: "unsubscribe", channelId })).toMatchObject({ type: "unsubscribed", channelId })
    for (const i of range(2, 6)) await aliceApi.post(channelId, `u${i}`, `after unsubscribe ${i}`)
    await witness.waitFor((f) => f.type === "message" && f.message.seq === 6)
    // Anything published before this pong would have arrived before it.
    await leaving.request({ type: "ping" })
    expect(leaving.messages(channelId).map((m) => m.seq)).toEqual([1])
    expect(witness.messages(channelId).map((m) => m.seq)).toEqual(range(1, 6))
    // Unsubscribing again is an error; the socket stays usable and can resume.
    expect(await leaving.request({ type: "unsubscribe", channelId })).toMatchObject({ type: "error", code: "not_subscribed" })
    expect(await leaving.request({ type: "subscribe", channelId, lastSeq: 1 })).toMatchObject({ type: "subscribed", head: 6 })
    expect(leaving.messages(channelId).map((m) => m.seq)).toEqual(range(1, 6))
    leaving.close()
    witness.close()
  })

  it("keeps a private channel invisible to non-members (ChannelNotFound) until the owner adds them", async () => {
    const created = await aliceApi.call("POST", "/channels", { name: "secret", visibility: "private" })
    expect(created.status).toBe(201)
    const channelId = created.body.id as string
    await aliceApi.post(channelId, "s1", "members only")

    const join = await carolApi.call("POST", `/channels/${channelId}/join`)
    expect(join.status).toBe(404)
    expect(join.body).toEqual({ _tag: "ChannelNotFound", channelId })
    const read = await carolApi.call("GET", `/channels/${channelId}/messages`)
    expect(read.status).toBe(404)
    expect(read.body).toEqual({ _tag: "ChannelNotFound", channelId })
    const post = await carolApi.call("POST", `/channels/${channelId}/messages`, { clientMsgId: "c1", body: "hi?" })
    expect(post.status).toBe(404)
    expect(post.body).toEqual({ _tag: "ChannelNotFound", channelId })
    const ws = await connect(node, carol)
    expect(await ws.request({ type: "history", channelId })).toMatchObject({ type: "error", code: "channel_not_found" })
    // A non-member cannot add members either.
    const selfAdd = await carolApi.call("POST", `/channels/${channelId}/members`, { userId: id.carol })
    expect(selfAdd.status).toBe(404)

    const added = await aliceApi.call("POST", `/channels/${channelId}/members`, { userId: id.carol })
    expect(added.status).toBe(200)
    expect(added.body.members).toEqual(expect.arrayContaining([{ userId: id.carol, role: "member" }]))

    expect((await carolApi.history(channelId)).map((m) => m.body)).toEqual(["members only"])
    expect((await carolApi.post(channelId, "c2", "thanks for adding me")).seq).toBe(2)
    const history = await ws.request({ type: "history", channelId })
    expect(history.messages.map((m: Frame) => m.seq)).toEqual([1, 2])
    // A plain member cannot add others to a private channel.
    const memberAdds = await carolApi.call("POST", `/channels/${channelId}/members`, { userId: id.bob })
    expect(memberAdds.status).toBe(403)
    expect(memberAdds.body).toMatchObject({ _tag: "Forbidden" })
    ws.close()
  })
})

describe("a single node on Postgres (DATABASE_URL)", () => {
  let db: TestDatabase
  let node: NodeProcess

  beforeAll(async () => {
    db = await makeTestDatabase()
    node = await startNode({ databaseUrl: db.url })
  })

  afterAll(async () => {
    await node?.stop()
    await db?.drop()
  })

  it("reports health with the native uWS engine and the postgres database", async () => {
    expect(await health(node)).toMatchObject({ status: "ok", nodeId: node.name, websocketEngine: "uws-native", database: "postgres" })
  })

  it("creates, joins, posts idempotently and serves history and a resumed subscription from Postgres", async () => {
    const { token: alice } = await signedIn(node.url, "alice")
    const { token: bob } = await signedIn(node.url, "bob")
    const aliceApi = rest(node.url, alice)
    const channelId = (await aliceApi.createChannel("on-postgres")).id
    await rest(node.url, bob).join(channelId)
    for (const i of range(1, 5)) expect((await aliceApi.post(channelId, `p${i}`, `pg ${i}`)).seq).toBe(i)
    expect((await aliceApi.post(channelId, "p3", "pg 3")).seq).toBe(3)
    expect((await rest(node.url, bob).history(channelId)).map((m) => m.seq)).toEqual(range(1, 5))

    const client = await connect(node, bob)
    expect(await client.request({ type: "subscribe", channelId, lastSeq: 2 })).toMatchObject({ type: "subscribed", head: 5 })
    await aliceApi.post(channelId, "p6", "pg 6")
    await client.waitFor((f) => f.type === "message" && f.message.seq === 6)
    expect(client.messages(channelId).map((m) => m.seq)).toEqual(range(3, 6))
    client.close()
  })
})
