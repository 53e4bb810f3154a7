/**
 * The WebSocket and REST protocols under bad input, against real node
 * processes: every bad input gets its documented error frame or HTTP status,
 * the connection stays open where the protocol allows (proved by a later
 * ping/pong or post), and nothing is written (proved by the channel history).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { CloseCode } from "../../domain/Protocol.ts"
import { signedIn } from "../fixtures/AuthClient.ts"
import { type Frame, rest, WsClient } from "../fixtures/Clients.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { craftAccessToken } from "../fixtures/TestTokens.ts"

/** An access token for `sub` like the node's own, signed with the test key (startNode's) unless `secret` is given. */
const craftToken = (sub: string, expiresAt: number, secret?: string) =>
  craftAccessToken({ sub, expiresAt, ...(secret === undefined ? {} : { secret: secret.padEnd(32, "!") }) })

const isError = (code: string) => (f: Frame) => f.type === "error" && f.code === code

/** The connection still answers: a ping gets its pong. */
const expectAlive = async (client: WsClient) => {
  const pong = await client.request({ type: "ping" })
  expect(pong.type).toBe("pong")
}

const connect = async (node: NodeProcess, token?: string) => {
  const client = await WsClient.connect(node.wsUrl, token)
  await client.waitFor((f) => f.type === "hello")
  return client
}

/** Polls `/api/v1/health` until the live WebSocket count satisfies `predicate`. */
const waitConnections = (node: NodeProcess, predicate: (count: number) => boolean, timeoutMs = 20_000) =>
  vi.waitFor(async () => {
    const health = (await (await fetch(`${node.url}/api/v1/health`)).json()) as { connections: number }
    if (!predicate(health.connections)) throw new Error(`connections stuck at ${health.connections}`)
    return health.connections
  }, { timeout: timeoutMs, interval: 50 })

// A frame limit a 4,001-character body still fits under, while a 5 KiB frame does not.
const MAX_FRAME = 4608
const MAX_BACKPRESSURE = 65536

describe("protocol errors on a single node", () => {
  let node: NodeProcess
  let alice: string
  let aliceId: string
  let bob: string
  let aliceApi: ReturnType<typeof rest>
  let channelId: string
  /** The channel's history before any bad input; it must never change. */
  let seeded: Array<unknown>
  const history = () => aliceApi.history(channelId)

  beforeAll(async () => {
    node = await startNode({
      env: { PLEXI_WS_MAX_FRAME_BYTES: String(MAX_FRAME), PLEXI_WS_MAX_BACKPRESSURE_BYTES: String(MAX_BACKPRESSURE) }
    })
    ;({ token: alice, userId: aliceId } = await signedIn(node.url, "alice"))
    bob = (await signedIn(node.url, "bob")).token
    aliceApi = rest(node.url, alice)
    channelId = (await aliceApi.createChannel("protocol")).id
    await aliceApi.post(channelId, "seed-1", "first")
    await aliceApi.post(channelId, "seed-2", "second")
    seeded = await history()
    expect(seeded).toHaveLength(2)
  })

  afterAll(async () => {
    await node?.stop()
  })

  it("answers malformed JSON with bad_json, keeps the socket open and writes nothing", async () => {
    const client = await connect(node, alice)
    for (const text of ["{", "not json", `{"type":"post","channelId":"${channelId}",`, ""]) {
      const from = client.frames.length
      client.send(text)
      const error = await client.waitFor((f) => f.type === "error", 10_000, from)
      expect(error.code).toBe("bad_json")
    }
    await expectAlive(client)
    expect(await history()).toEqual(seeded)
    client.close()
  })

  it("answers a binary frame with binary_not_supported, keeps the socket open and writes nothing", async () => {
    const client = await connect(node, alice)
    const garbage = Buffer.from([0xff, 0x00, 0xfe, 0x7b, 0x22, 0x01, 0x80, 0x9c])
    client.socket.send(garbage, { binary: true })
    await client.waitFor(isError("binary_not_supported"))
    // Even valid JSON is refused when it comes as a binary frame.
    const from = client.frames.length
    client.socket.send(Buffer.from(JSON.stringify({ type: "post", channelId, clientMsgId: "bin", body: "x" })), { binary: true })
    await client.waitFor(isError("binary_not_supported"), 10_000, from)
    await expectAlive(client)
    expect(await history()).toEqual(seeded)
    client.close()
  })

  it("answers an unknown or missing frame type with unknown_type (ref echoed) and writes nothing", async () => {
    const client = await connect(node, alice)
    const unknown = await client.request({ type: "delete_everything", channelId })
    expect(unknown).toMatchObject({ type: "error", code: "unknown_type" })
    const untyped = await client.request({ channelId, body: "no type" })
    expect(untyped).toMatchObject({ type: "error", code: "unknown_type" })
    const numericType = await client.request({ type: 7 })
    expect(numericType).toMatchObject({ type: "error", code: "unknown_type" })
    for (const text of ["[1,2,3]", "42", "null", "\"post\""]) {
      const from = client.frames.length
      client.send(text)
      expect((await client.waitFor((f) => f.type === "error", 10_000, from)).code).toBe("unknown_type")
    }
    await expectAlive(client)
    expect(await history()).toEqual(seeded)
    client.close()
  })

  it("answers schema violations with invalid_frame (ref echoed), keeps the socket open and writes nothing", async () => {
    const client = await connect(node, alice)
    const violations: Array<[string, Record<string, unknown>]> = [
      ["missing body", { type: "post", channelId, clientMsgId: "v1" }],
      ["missing clientMsgId", { type: "post", channelId, body: "hello" }],
      ["missing channelId", { type: "post", clientMsgId: "v2", body: "hello" }],
      ["body of the wrong type", { type: "post", channelId, clientMsgId: "v3", body: 5 }],
      ["clientMsgId of the wrong type", { type: "post", channelId, clientMsgId: { id: 1 }, body: "hello" }],
      ["empty body", { type: "post", channelId, clientMsgId: "v4", body: "" }],
      ["body over 4000 characters", { type: "post", channelId, clientMsgId: "v5", body: "a".repeat(4001) }],
      ["empty clientMsgId", { type: "post", channelId, clientMsgId: "", body: "hello" }],
      ["clientMsgId over 64 characters", { type: "post", channelId, clientMsgId: "k".repeat(65), body: "hello" }],
      ["bad channelId characters", { type: "post", channelId: "c/../../etc", clientMsgId: "v6", body: "hello" }],
      ["channelId with spaces", { type: "post", channelId: "a b", clientMsgId: "v7", body: "hello" }],
      ["empty channelId", { type: "post", channelId: "", clientMsgId: "v8", body: "hello" }],
      ["negative lastSeq", { type: "subscribe", channelId, lastSeq: -1 }],
      ["fractional lastSeq", { type: "subscribe", channelId, lastSeq: 1.5 }],
      ["history limit of the wrong type", { type: "history", channelId, limit: "all" }],
      ["auth without token", { type: "auth" }],
      ["ref over 64 characters", { type: "ping", ref: "r".repeat(65) }]
    ]
    for (const [what, frame] of violations) {
      if (typeof frame.ref === "string") {
        const from = client.frames.length
        client.send(frame)
        const error = await client.waitFor((f) => f.type === "error", 10_000, from)
        expect(error.code, what).toBe("invalid_frame")
        continue
      }
      const error = await client.request(frame)
      expect(error.type, what).toBe("error")
      expect(error.code, what).toBe("invalid_frame")
      expect(typeof error.message, what).toBe("string")
    }
    await expectAlive(client)
    expect(await history()).toEqual(seeded)
    // A valid post on the same connection still goes through.
    const ack = await client.request({ type: "post", channelId, clientMsgId: "after-violations", body: "still here" })
    expect(ack).toMatchObject({ type: "ack", channelId, seq: 3 })
    seeded = await history()
    expect(seeded).toHaveLength(3)
    client.close()
  })

  it("answers a frame over PLEXI_WS_MAX_FRAME_BYTES with frame_too_large, keeps the socket open and writes nothing", async () => {
    const client = await connect(node, alice)
    expect(client.frames[0]).toMatchObject({ type: "hello", maxFrameBytes: MAX_FRAME })
    // A well-formed post of 5 KiB: valid JSON, but over the frame limit.
    const frame = JSON.stringify({ type: "post", channelId, clientMsgId: "too-big", body: "b".repeat(3000), pad: "p".repeat(2200) })
    expect(Buffer.byteLength(frame)).toBeGreaterThan(5 * 1024)
    client.send(frame)
    const error = await client.waitFor((f) => f.type === "error")
    expect(error.code).toBe("frame_too_large")
    // Up to 4x the limit is still answered, not closed.
    const from = client.frames.length
    client.send("x".repeat(MAX_FRAME * 4 - 16))
    expect((await client.waitFor((f) => f.type === "error", 10_000, from)).code).toBe("frame_too_large")
    await expectAlive(client)
    expect(await history()).toEqual(seeded)
    client.close()
  })

  it("drops the connection on a frame above the uWS hard cap max(4x limit, 1 MiB): abnormal close 1006, no close frame, nothing written", async () => {
    const client = await connect(node, alice)
    const before = await waitConnections(node, () => true)
    client.send(JSON.stringify({ type: "post", channelId, clientMsgId: "huge", body: "h".repeat(1024 * 1024 + 1) }))
    // uWS refuses the payload length and closes the TCP socket without a close
    // frame, so the client sees 1006 (not 1009).
    expect(await client.waitClosed()).toBe(1006)
    await waitConnections(node, (count) => count === before - 1)
    expect(await history()).toEqual(seeded)
    // The node is unharmed: a fresh connection works.
    const next = await connect(node, alice)
    await expectAlive(next)
    next.close()
  })

  it("answers a post to a channel the user is not a member of with not_a_member and writes nothing", async () => {
    const client = await connect(node, bob)
    const error = await client.request({ type: "post", channelId, clientMsgId: "intruder", body: "let me in" })
    expect(error).toMatchObject({ type: "error", code: "not_a_member" })
    // A public channel stays readable by non-members; only writing needs membership.
    const read = await client.request({ type: "history", channelId })
    expect(read).toMatchObject({ type: "history", messages: seeded })
    await expectAlive(client)
    expect(await history()).toEqual(seeded)
    client.close()
  })

  it("answers post, history and subscribe on a private channel the user is not a member of with channel_not_found and writes nothing", async () => {
    const secret = (await aliceApi.createChannel("secret", "private")).id
    await aliceApi.post(secret, "s-1", "for members only")
    const before = await aliceApi.history(secret)
    const client = await connect(node, bob)
    expect(await client.request({ type: "post", channelId: secret, clientMsgId: "intruder", body: "let me in" }))
      .toMatchObject({ type: "error", code: "channel_not_found", channelId: secret })
    expect(await client.request({ type: "history", channelId: secret })).toMatchObject({ type: "error", code: "channel_not_found" })
    expect(await client.request({ type: "subscribe", channelId: secret })).toMatchObject({ type: "error", code: "channel_not_found" })
    await expectAlive(client)
    expect(await aliceApi.history(secret)).toEqual(before)
    expect(client.messages(secret)).toEqual([])
    client.close()
  })

  it("answers a post to a channel that does not exist with channel_not_found and creates nothing", async () => {
    const client = await connect(node, alice)
    const missing = "c_doesnotexist42"
    const error = await client.request({ type: "post", channelId: missing, clientMsgId: "ghost", body: "anyone?" })
    expect(error).toMatchObject({ type: "error", code: "channel_not_found" })
    const read = await client.request({ type: "history", channelId: missing })
    expect(read).toMatchObject({ type: "error", code: "channel_not_found" })
    const sub = await client.request({ type: "subscribe", channelId: missing })
    expect(sub).toMatchObject({ type: "error", code: "channel_not_found" })
    await expectAlive(client)
    // Still nothing there afterwards, over REST too.
    const restRead = await aliceApi.call("GET", `/channels/${missing}/messages`)
    expect(restRead.status).toBe(404)
    expect(restRead.body).toMatchObject({ _tag: "ChannelNotFound" })
    expect(await history()).toEqual(seeded)
    client.close()
  })

  it("answers frames before auth with unauthorized, keeps the socket open, and accepts them after an auth frame", async () => {
    const client = await connect(node)
    expect(client.frames[0]!.userId).toBeUndefined()
    expect(await client.request({ type: "post", channelId, clientMsgId: "anon", body: "hi" }))
      .toMatchObject({ type: "error", code: "unauthorized" })
    expect(await client.request({ type: "subscribe", channelId })).toMatchObject({ type: "error", code: "unauthorized" })
    expect(await client.request({ type: "history", channelId })).toMatchObject({ type: "error", code: "unauthorized" })
    expect(await client.request({ type: "unsubscribe", channelId })).toMatchObject({ type: "error", code: "unauthorized" })
    await expectAlive(client)
    expect(await history()).toEqual(seeded)
    expect(await client.request({ type: "auth", token: alice })).toMatchObject({ type: "authenticated", userId: aliceId })
    const read = await client.request({ type: "history", channelId })
    expect(read.type).toBe("history")
    expect(read.messages).toEqual(seeded)
    client.close()
  })

  it("refuses the WebSocket upgrade with HTTP 401 for a bad token", async () => {
    const badSignature = await craftToken(aliceId, Date.now() + 60_000, "wrong-secret")
    for (const token of ["nonsense", "dev.abc.def", badSignature, `${alice}x`]) {
      await expect(WsClient.connect(node.wsUrl, token)).rejects.toThrow("upgrade refused: 401")
    }
  })

  it("answers an auth frame with a bad token with unauthorized and keeps the socket open and anonymous", async () => {
    const client = await connect(node)
    const badSignature = await craftToken(aliceId, Date.now() + 60_000, "wrong-secret")
    for (const token of ["nonsense", badSignature, ""]) {
      const error = await client.request({ type: "auth", token })
      expect(error).toMatchObject({ type: "error", code: "unauthorized" })
    }
    await expectAlive(client)
    expect(await client.request({ type: "post", channelId, clientMsgId: "still-anon", body: "hi" }))
      .toMatchObject({ type: "error", code: "unauthorized" })
    expect(await history()).toEqual(seeded)
    client.close()
  })

  it("answers REST calls with a missing or bad token with 401 JSON", async () => {
    const badSignature = await craftToken(aliceId, Date.now() + 60_000, "wrong-secret")
    for (const token of ["nonsense", badSignature]) {
      const r = await rest(node.url, token).call("GET", `/channels/${channelId}/messages`)
      expect(r.status).toBe(401)
      expect(r.body).toMatchObject({ _tag: "Unauthorized" })
      const p = await rest(node.url, token).call("POST", `/channels/${channelId}/messages`, { clientMsgId: "x", body: "x" })
      expect(p.status).toBe(401)
      expect(p.body).toMatchObject({ _tag: "Unauthorized" })
    }
    const res = await fetch(`${node.url}/api/v1/channels/${channelId}/messages`)
    expect(res.status).toBe(401)
    expect(res.headers.get("content-type")).toContain("application/json")
    expect(await history()).toEqual(seeded)
  })

  it("refuses an expired token: 401 on upgrade, unauthorized on an auth frame, 401 over REST", async () => {
    const expired = await craftToken(aliceId, Date.now() - 1000)
    // The same claims, still valid, are accepted: only the expiry differs.
    const fresh = await craftToken(aliceId, Date.now() + 60_000)
    const ok = await connect(node, fresh)
    expect(ok.frames[0]).toMatchObject({ userId: aliceId })
    ok.close()

    await expect(WsClient.connect(node.wsUrl, expired)).rejects.toThrow("upgrade refused: 401")

    const client = await connect(node)
    const error = await client.request({ type: "auth", token: expired })
    expect(error).toMatchObject({ type: "error", code: "unauthorized" })
    expect(error.message).toContain("expired")
    await expectAlive(client)
    client.close()

    const r = await rest(node.url, expired).call("POST", `/channels/${channelId}/messages`, { clientMsgId: "late", body: "x" })
    expect(r.status).toBe(401)
    expect(r.body).toMatchObject({ _tag: "Unauthorized" })
    expect(await history()).toEqual(seeded)
  })

  it("answers bad REST input with documented statuses and writes nothing", async () => {
    const post = (body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
      fetch(`${node.url}/api/v1/channels/${channelId}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${alice}`, ...headers },
        body
      })
    for (
      const body of [
        "{",
        JSON.stringify({ clientMsgId: "r1" }),
        JSON.stringify({ clientMsgId: "r2", body: "" }),
        JSON.stringify({ clientMsgId: "r3", body: 5 }),
        JSON.stringify({ clientMsgId: "r4", body: "a".repeat(4001) })
      ]
    ) {
      const res = await post(body)
      expect(res.status, body.slice(0, 40)).toBe(400)
      await res.arrayBuffer()
    }
    const huge = await post(JSON.stringify({ clientMsgId: "r5", body: "a".repeat(2 * 1024 * 1024) }))
    expect(huge.status).toBe(413)
    expect(await huge.json()).toMatchObject({ _tag: "PayloadTooLarge" })
    const badId = await aliceApi.call("POST", "/channels/bad%20id!/messages", { clientMsgId: "r6", body: "x" })
    expect(badId.status).toBe(400)
    const bobPost = await rest(node.url, bob).call("POST", `/channels/${channelId}/messages`, { clientMsgId: "r7", body: "x" })
    expect(bobPost.status).toBe(403)
    expect(bobPost.body).toMatchObject({ _tag: "NotAMember" })
    expect(await history()).toEqual(seeded)
  })

  it(`disconnects a slow consumer with close ${CloseCode.slowConsumer} while another subscriber keeps receiving everything`, async () => {
    const busy = (await aliceApi.createChannel("busy")).id
    const slow = await connect(node, alice)
    const normal = await connect(node, alice)
    expect(await slow.request({ type: "subscribe", channelId: busy })).toMatchObject({ type: "subscribed", head: 0 })
    expect(await normal.request({ type: "subscribe", channelId: busy })).toMatchObject({ type: "subscribed", head: 0 })
    const open = await waitConnections(node, () => true)
    slow.pauseReading()

    // ~12 KB per message frame: the kernel buffers fill, then the server's send buffer.
    const body = "€".repeat(4000)
    let posted = 0
    let maxSeq = 0
    let slowGone = false
    const watcher = waitConnections(node, (count) => count <= open - 1, 60_000).then(() => {
      slowGone = true
    })
    const poster = async () => {
      while (!slowGone && posted < 5000) {
        const n = ++posted
        maxSeq = Math.max(maxSeq, (await aliceApi.post(busy, `busy-${n}`, body)).seq)
      }
    }
    await Promise.all([watcher, ...Array.from({ length: 8 }, poster)])
    // A few more after the slow consumer is gone: the normal subscriber still gets them.
    for (let i = 0; i < 5; i++) maxSeq = Math.max(maxSeq, (await aliceApi.post(busy, `busy-after-${i}`, body)).seq)
    const total = maxSeq
    expect(total).toBe(posted + 5)

    await normal.waitFor((f) => f.type === "message" && f.message.seq === total, 30_000)
    const seqs = normal.messages(busy).map((m) => m.seq)
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    await expectAlive(normal)

    // The server closed the slow socket; once it reads again it gets what was
    // buffered (a gap-free prefix) and then the close frame.
    slow.resumeReading()
    expect(await slow.waitClosed(30_000)).toBe(CloseCode.slowConsumer)
    const slowSeqs = slow.messages(busy).map((m) => m.seq)
    expect(slowSeqs.length).toBeLessThan(total)
    expect(slowSeqs).toEqual(Array.from({ length: slowSeqs.length }, (_, i) => i + 1))
    normal.close()
  }, 120_000)
})

describe("flood protection on a single node", () => {
  const RATE = 20
  const BURST = 20
  let node: NodeProcess
  let alice: string
  let aliceApi: ReturnType<typeof rest>

  beforeAll(async () => {
    node = await startNode({ env: { PLEXI_WS_RATE_LIMIT: String(RATE), PLEXI_WS_RATE_BURST: String(BURST) } })
    alice = (await signedIn(node.url, "alice")).token
    aliceApi = rest(node.url, alice)
  })

  afterAll(async () => {
    await node?.stop()
  })

  it("acks only about the burst of a 500-post flood, refuses the rest with rate_limited + retryAfterMs, stays open, and stores exactly the acked posts", async () => {
    const channelId = (await aliceApi.createChannel("flood")).id
    const client = await connect(node, alice)
    const ids = Array.from({ length: 500 }, (_, i) => `flood-${i}`)
    for (const id of ids) client.send({ type: "post", channelId, clientMsgId: id, body: `message ${id}`, ref: id })

    await client.waitFor(isError("rate_limited"))
    // Once the bucket has refilled, the connection still answers.
    await vi.waitFor(() => expectAlive(client), { timeout: 10_000, interval: 200 })

    // Every post is answered with its ref: an ack when admitted, rate_limited when refused.
    const stored = async () => (await aliceApi.history(channelId, 0, 1000)).map((m) => m.clientMsgId)
    const acked = () => client.all((f) => f.type === "ack").map((f) => f.clientMsgId as string)
    const answered = () => new Set([...acked(), ...client.all((f) => f.type === "error").map((f) => f.ref as string)])
    // First every one of the 500 posts has its answer; only then is the store compared with the acks.
    await vi.waitFor(() => {
      const refs = answered()
      const missing = ids.filter((id) => !refs.has(id)).length
      if (missing > 0) throw new Error(`${missing} posts not answered yet`)
    }, { timeout: 15_000, interval: 100 })
    await vi.waitFor(async () => {
      const now = await stored()
      if (new Set(now).size !== acked().length || now.some((id) => !acked().includes(id))) {
        throw new Error(`acked ${acked().length}, stored ${now.length}`)
      }
    }, { timeout: 15_000, interval: 100 })
    const ackedIds = acked()
    expect(ackedIds.length).toBeGreaterThanOrEqual(BURST)
    expect(ackedIds.length).toBeLessThan(BURST + 15)
    // The burst admits the first posts sent; tokens refilled meanwhile admit a few later ones, in send order.
    expect(ackedIds.slice(0, BURST)).toEqual(ids.slice(0, BURST))
    expect(ackedIds.map((id) => ids.indexOf(id))).toEqual(ackedIds.map((id) => ids.indexOf(id)).sort((a, b) => a - b))
    const history = await aliceApi.history(channelId, 0, 1000)
    expect(history.map((m) => m.seq)).toEqual(Array.from({ length: ackedIds.length }, (_, i) => i + 1))
    expect(await stored()).toEqual(ackedIds)
    // Each refused post got rate_limited with its own ref and a retry hint; errors are rate_limited only.
    const errors = client.all((f) => f.type === "error")
    for (const e of errors) {
      expect(e.code).toBe("rate_limited")
      expect(e.retryAfterMs).toBeGreaterThan(0)
      expect(typeof e.ref).toBe("string")
    }
    // Besides the flood's posts, only the pings sent while waiting for the refill were refused.
    const floodErrors = errors.filter((e) => ids.includes(e.ref))
    expect(errors.filter((e) => !ids.includes(e.ref)).every((e) => /^r\d+$/.test(e.ref))).toBe(true)
    expect(floodErrors.map((e) => e.ref).sort()).toEqual(ids.filter((id) => !ackedIds.includes(id)).sort())

    // After the refill a post goes through again.
    const ack = await client.request({ type: "post", channelId, clientMsgId: "after-flood", body: "calm again" })
    expect(ack).toMatchObject({ type: "ack", seq: ackedIds.length + 1 })
    expect(client.closeCode).toBeUndefined()
    client.close()
  })

  it(`closes a connection with ${CloseCode.flood} when it keeps flooding: 2000 frames refused within 10 s`, async () => {
    const channelId = (await aliceApi.createChannel("flood-close")).id
    const client = await connect(node, alice)
    for (let i = 0; i < 5000; i++) client.send({ type: "post", channelId, clientMsgId: `f-${i}`, body: "spam" })
    expect(await client.waitClosed(30_000)).toBe(CloseCode.flood)
    expect(client.all(isError("rate_limited")).length).toBeGreaterThan(0)
    // Only what was admitted is stored: a prefix of what was sent, each exactly once, gap-free.
    const stored = await aliceApi.history(channelId, 0, 1000)
    expect(stored.length).toBeGreaterThanOrEqual(client.all((f) => f.type === "ack").length)
    expect(stored.length).toBeLessThan(BURST + 15)
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1))
    const order = stored.map((m) => Number(m.clientMsgId.slice(2)))
    expect(order.slice(0, BURST)).toEqual(Array.from({ length: BURST }, (_, i) => i))
    expect(new Set(order).size).toBe(order.length)
    expect(order).toEqual([...order].sort((a, b) => a - b))
    // The node still serves new connections.
    const next = await connect(node, alice)
    await expectAlive(next)
    next.close()
  })
})
