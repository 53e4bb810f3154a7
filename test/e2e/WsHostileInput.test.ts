/**
 * Hostile WebSocket input against a real node process: values of the wrong
 * type, deep nesting, NUL and lone surrogates, invalid UTF-8. The node must
 * answer each with its documented error or close code and stay the same
 * process (same pid, health answering).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { type Frame, rest, WsClient } from "../fixtures/Clients.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"

const connect = async (node: NodeProcess, token?: string) => {
  const client = await WsClient.connect(node.wsUrl, token)
  await client.waitFor((f) => f.type === "hello")
  return client
}

/** The node still runs as the same process and answers health and a ping. */
const expectNodeAlive = async (node: NodeProcess, pid: number | undefined) => {
  expect(node.child.exitCode).toBeNull()
  expect(node.child.pid).toBe(pid)
  expect((await fetch(`${node.url}/api/v1/health`)).status).toBe(200)
  const probe = await connect(node)
  expect((await probe.request({ type: "ping" })).type).toBe("pong")
  probe.close()
}

/** Sends raw text and waits for the next error frame. */
const errorFor = async (client: WsClient, text: string): Promise<Frame> => {
  const from = client.frames.length
  client.send(text)
  return client.waitFor((f) => f.type === "error", 10_000, from)
}

describe("hostile WebSocket input on a single node", () => {
  let node: NodeProcess
  let pid: number | undefined
  let alice: string
  let channelId: string

  beforeAll(async () => {
    node = await startNode()
    pid = node.child.pid
    alice = (await signedIn(node.url, "alice")).token
    channelId = (await rest(node.url, alice).createChannel("hostile")).id
  })

  afterAll(async () => {
    await node?.stop()
  })

  it("answers a type or ref whose value is an object with toString before auth with unknown_type, and stays up", async () => {
    const client = await connect(node)
    for (
      const text of [
        `{"type":{"toString":1}}`,
        `{"type":{"toString":1,"valueOf":1}}`,
        `{"type":["post"]}`,
        `{"type":"__proto__"}`,
        `{"type":"constructor"}`,
        `{"type":"toString"}`
      ]
    ) {
      const error = await errorFor(client, text)
      expect(error.code, text).toBe("unknown_type")
      expect(typeof error.message, text).toBe("string")
    }
    // Object-valued fields where strings belong, before and after auth.
    for (
      const text of [
        `{"type":"ping","ref":{"toString":1}}`,
        `{"type":"auth","token":{"toString":1}}`,
        `{"type":"auth","token":{"toString":1},"ref":"a"}`
      ]
    ) {
      const error = await errorFor(client, text)
      expect(["invalid_frame"], text).toContain(error.code)
    }
    expect(await client.request({ type: "auth", token: alice })).toMatchObject({ type: "authenticated" })
    for (
      const frame of [
        { type: "post", channelId: { toString: 1 }, clientMsgId: "k", body: "b" },
        { type: "post", channelId, clientMsgId: { toString: 1 }, body: { valueOf: 1 } },
        { type: "subscribe", channelId, lastSeq: { valueOf: 1 } },
        { type: "history", channelId, limit: { toString: 1 } }
      ]
    ) {
      const error = await client.request(frame)
      expect(error.code, JSON.stringify(frame)).toBe("invalid_frame")
    }
    await expectNodeAlive(node, pid)
    client.close()
  })

  it("answers a field nested 3,000 levels deep with invalid_frame and stays up", async () => {
    const client = await connect(node, alice)
    const deep = "[".repeat(3000) + "]".repeat(3000)
    const text = `{"type":"post","channelId":"${channelId}","clientMsgId":"deep","body":${deep},"ref":"d"}`
    expect(Buffer.byteLength(text)).toBeLessThan(8 * 1024)
    const error = await errorFor(client, text)
    // Refused before parsing, so its ref is not known: not echoed.
    expect(error).toMatchObject({ code: "invalid_frame" })
    expect(error.ref).toBeUndefined()
    expect(error.message).toMatch(/nest/i)
    // Nesting inside a string is text, not depth.
    const ack = await client.request({ type: "post", channelId, clientMsgId: "brackets", body: "[".repeat(3000) })
    expect(ack.type).toBe("ack")
    await expectNodeAlive(node, pid)
    client.close()
  })

  it("refuses NUL and lone surrogates in body and clientMsgId with invalid_frame and a readable message, storing nothing", async () => {
    const client = await connect(node, alice)
    const api = rest(node.url, alice)
    const before = await api.history(channelId)
    for (
      const [what, clientMsgId, body] of [
        ["NUL in body", "n1", "a\u0000b"],
        ["NUL in clientMsgId", "n\u00002", "body"],
        ["lone high surrogate in body", "s1", "k\ud800"],
        ["lone low surrogate in clientMsgId", "k\udc00", "body"]
      ] as const
    ) {
      const error = await client.request({ type: "post", channelId, clientMsgId, body })
      expect(error.code, what).toBe("invalid_frame")
      expect(error.message, what).toMatch(/NUL|surrogate/)
      expect(error.message, what).not.toContain("{")
    }
    expect(await api.history(channelId)).toEqual(before)
    await expectNodeAlive(node, pid)
    client.close()
  })

  it("stores astral and emoji text exactly and sends it back unchanged in ack, message and history", async () => {
    const client = await connect(node, alice)
    const text = "héllo 👋🏽 𝄞 家族👨‍👩‍👧 \u{10FFFF}"
    const clientMsgId = "emoji-🙂"
    expect(await client.request({ type: "subscribe", channelId })).toMatchObject({ type: "subscribed" })
    const ack = await client.request({ type: "post", channelId, clientMsgId, body: text })
    expect(ack).toMatchObject({ type: "ack", clientMsgId })
    const live = await client.waitFor((f) => f.type === "message" && f.message.seq === ack.seq)
    expect(live.message).toMatchObject({ body: text, clientMsgId })
    const history = await client.request({ type: "history", channelId, afterSeq: ack.seq - 1, limit: 1 })
    expect(history.messages[0]).toMatchObject({ body: text, clientMsgId })
    client.close()
  })

  it("closes a socket that sends an invalid UTF-8 text frame (1006 on native uWS, 1007 otherwise) and stays up", async () => {
    const client = await connect(node, alice)
    const other = await connect(node, alice)
    client.socket.send(Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]), { binary: false })
    const code = await client.waitClosed()
    const engine = other.frames[0]!.engine
    expect(code).toBe(engine === "uws-native" ? 1006 : 1007)
    expect((await other.request({ type: "ping" })).type).toBe("pong")
    await expectNodeAlive(node, pid)
    other.close()
  })
})
