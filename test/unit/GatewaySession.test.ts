/**
 * The uWS-free gateway: sessions driven through a fake socket. Chat and hub
 * are proxies that die on any method a test did not stub.
 */
import { fc, test } from "@fast-check/vitest"
import { Effect, Either, Runtime, Schema } from "effect"
import { describe, expect, it, vi } from "vitest"
import type { ChannelId, SessionId, UserId } from "../../domain/Ids.ts"
import { Message } from "../../domain/Channel.ts"
import { MessageFrame, ServerFrame } from "../../domain/Protocol.ts"
import { isStorableText } from "../../domain/Text.ts"
import type { ChatService } from "../../src/api/ChatService.ts"
import { Gateway } from "../../src/gateway/Gateway.ts"
import type { SessionSocket } from "../../src/gateway/GatewayContext.ts"
import { encodeMessageFrame } from "../../src/gateway/ServerFrames.ts"
import { Subscriptions } from "../../src/gateway/Subscriptions.ts"
import type { ChannelHub } from "../../src/messaging/ChannelHub.ts"
import { unitGatewayOptions } from "../fixtures/GatewayOptions.ts"
import { testAccessToken, testTokenVerifier } from "../fixtures/TestTokens.ts"

const stub = <T extends object>(name: string, methods: Partial<T>): T =>
  new Proxy(methods as T, {
    get: (target, key) => {
      if (key in target) return (target as Record<PropertyKey, unknown>)[key]
      throw new Error(`${name}.${String(key)} was not stubbed`)
    }
  })

class FakeSocket implements SessionSocket {
  readonly sent: Array<Record<string, any>> = []
  readonly topics = new Set<string>()
  ended: { code: number; reason: string } | undefined
  dropped = false
  buffered = 0
  send = (text: string) => void this.sent.push(JSON.parse(text))
  cork = (f: () => void) => f()
  end = (code: number, reason: string) => {
    this.ended = { code, reason }
  }
  close = () => {
    this.dropped = true
  }
  subscribe = (topic: string) => void this.topics.add(topic)
  unsubscribe = (topic: string) => void this.topics.delete(topic)
  bufferedAmount = () => this.buffered
}

/** The verified claims of a fresh access token for `userId`, signed with the test key. */
const claimsOf = (userId: string) =>
  Effect.runPromise(Effect.flatMap(testAccessToken(userId), ({ token }) => testTokenVerifier.verifyClaims(token)))
const isServerFrame = Schema.is(ServerFrame)

const makeGateway = (chat: Partial<ChatService["Type"]> = {}, hub: Partial<ChannelHub["Type"]> = {}) => {
  const logged: Array<string> = []
  const runtime = Runtime.defaultRuntime
  const gateway = new Gateway({
    runtime,
    subscriptions: new Subscriptions(),
    chat: stub("chat", chat),
    hub: stub("hub", hub),
    tokens: testTokenVerifier,
    revocations: { reasonFor: () => undefined, refresh: Effect.void, listen: () => () => {} },
    options: unitGatewayOptions
  })
  const origLog = gateway.ctx.logError
  ;(gateway.ctx as { logError: typeof origLog }).logError = (message) => void logged.push(message)
  return { gateway, logged }
}

const text = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer
const tick = () => new Promise<void>((r) => setTimeout(r, 0))

describe("gateway session (fake socket)", () => {
  it("greets with hello, answers ping, refuses frames before auth, and every frame it sends matches ServerFrame", async () => {
    const { gateway } = makeGateway()
    const socket = new FakeSocket()
    const session = gateway.open(socket, { ip: "10.0.0.1", unauthenticated: true }, undefined)
    session.onMessage(text(`{"type":"ping","ref":"a"}`), false)
    session.onMessage(text(`{"type":"history","channelId":"c1","ref":"b"}`), false)
    session.onMessage(text(`{"type":{"toString":1}}`), false)
    await tick()
    expect(socket.sent.map((f) => f.type)).toEqual(["hello", "pong", "error", "error"])
    expect(socket.sent[2]).toMatchObject({ code: "unauthorized", ref: "b" })
    expect(socket.sent[3]).toMatchObject({ code: "unknown_type" })
    for (const frame of socket.sent) expect(isServerFrame(frame), JSON.stringify(frame)).toBe(true)
    gateway.close(session)
  })

  it("answers an exception thrown while handling a frame with internal, logs it, and keeps serving", async () => {
    const { gateway, logged } = makeGateway({
      submit: () => {
        throw new Error("boom")
      }
    })
    const socket = new FakeSocket()
    const claims = await claimsOf("alice")
    const session = gateway.open(socket, { ip: "10.0.0.1", unauthenticated: true }, claims)
    expect(() => session.onMessage(text(`{"type":"post","channelId":"c1","clientMsgId":"k","body":"b","ref":"p"}`), false))
      .not.toThrow()
    session.onMessage(text(`{"type":"ping","ref":"after"}`), false)
    await tick()
    expect(socket.sent.find((f) => f.ref === "p")).toMatchObject({ type: "error", code: "internal" })
    expect(socket.sent.find((f) => f.ref === "after")).toMatchObject({ type: "pong" })
    expect(logged).toContain("ws handler failed")
    gateway.close(session)
  })

  it("maps a domain failure to a readable error frame with machine fields", async () => {
    const { NotAMember } = await import("../../domain/Errors.ts")
    const { gateway } = makeGateway({
      submit: (userId, channelId, _id, _body, done) => done(Either.left(new NotAMember({ channelId, userId })))
    })
    const socket = new FakeSocket()
    const claims = await claimsOf("bob")
    const session = gateway.open(socket, { ip: "10.0.0.2", unauthenticated: true }, claims)
    session.onMessage(text(`{"type":"post","channelId":"c1","clientMsgId":"k","body":"b","ref":"p"}`), false)
    await tick()
    expect(socket.sent.find((f) => f.ref === "p")).toEqual({
      type: "error",
      code: "not_a_member",
      message: "bob is not a member of channel c1",
      ref: "p",
      channelId: "c1",
      userId: "bob"
    })
    gateway.close(session)
  })

  it("closes a slow consumer only once its backlog drained, after dropping its feeds", async () => {
    const released: Array<string> = []
    const { gateway } = makeGateway({}, {
      attach: (channelId, _userId, _lastSeq, follower) =>
        Effect.sync(() => {
          follower.follow()
          return { head: 0, release: () => void released.push(channelId) }
        })
    })
    const socket = new FakeSocket()
    const claims = await claimsOf("carol")
    const session = gateway.open(socket, { ip: "10.0.0.3", unauthenticated: true }, claims)
    session.onMessage(text(`{"type":"subscribe","channelId":"c1","ref":"s"}`), false)
    await tick()
    expect(socket.topics.has("c/c1")).toBe(true)
    socket.buffered = 100_000
    session.checkBackpressure()
    expect(released).toEqual(["c1"])
    expect(socket.topics.size).toBe(0)
    expect(socket.ended).toBeUndefined()
    socket.buffered = 0
    session.onDrain()
    expect(socket.ended).toEqual({ code: 4008, reason: "slow consumer" })
    gateway.close(session)
  })

  it("drops a slow consumer that never drains once PLEXI_WS_DRAIN_TIMEOUT has passed since it stopped being served", async () => {
    const { gateway } = makeGateway({}, {
      attach: (_channelId, _userId, _lastSeq, follower) =>
        Effect.sync(() => {
          follower.follow()
          return { head: 0, release: () => {} }
        })
    })
    const socket = new FakeSocket()
    const claims = await claimsOf("erin")
    const session = gateway.open(socket, { ip: "10.0.0.5", unauthenticated: true }, claims)
    session.onMessage(text(`{"type":"subscribe","channelId":"c1","ref":"s"}`), false)
    await tick()
    socket.buffered = 100_000
    // The drain starts at a clock read between these two: 29 s after the first is short of the timeout, 30 s after
    // the second is past it, however many milliseconds the calls took.
    const before = gateway.ctx.now()
    session.checkBackpressure()
    const after = gateway.ctx.now()
    session.onDrain()
    session.tick(before + 29_000)
    expect(socket.dropped).toBe(false)
    session.tick(after + 30_000)
    expect(socket.dropped).toBe(true)
    expect(socket.ended).toBeUndefined()
    gateway.close(session)
  })

  it("answers a subscribe past PLEXI_WS_MAX_SUBSCRIPTIONS with too_many_subscriptions and attaches nothing", async () => {
    const attached: Array<string> = []
    const { gateway } = makeGateway({}, {
      attach: (channelId) =>
        Effect.sync(() => {
          attached.push(channelId)
          return { head: 0, release: () => {} }
        })
    })
    const socket = new FakeSocket()
    const claims = await claimsOf("fay")
    const session = gateway.open(socket, { ip: "10.0.0.6", unauthenticated: true }, claims)
    for (const c of ["c1", "c2", "c3"]) session.onMessage(text(`{"type":"subscribe","channelId":"${c}","ref":"${c}"}`), false)
    // Resubscribing to a followed channel is not a new subscription.
    session.onMessage(text(`{"type":"subscribe","channelId":"c1","ref":"again"}`), false)
    await tick()
    expect(attached).toEqual(["c1", "c2", "c1"])
    const refused = socket.sent.find((f) => f.ref === "c3")
    expect(refused).toMatchObject({ type: "error", code: "too_many_subscriptions", channelId: "c3" })
    expect(isServerFrame(refused)).toBe(true)
    session.onMessage(text(`{"type":"unsubscribe","channelId":"c2"}`), false)
    session.onMessage(text(`{"type":"subscribe","channelId":"c3","ref":"c3b"}`), false)
    await tick()
    expect(attached).toEqual(["c1", "c2", "c1", "c3"])
    gateway.close(session)
  })

  test.prop([fc.jsonValue({ maxDepth: 12 }).map((v) => JSON.stringify(v)), fc.string()], { numRuns: 300 })(
    "never throws and answers every frame from arbitrary JSON or text with a ServerFrame",
    async (json, raw) => {
      const { gateway } = makeGateway()
      const socket = new FakeSocket()
      const session = gateway.open(socket, { ip: "10.0.0.4", unauthenticated: true }, undefined)
      for (const t of [json, raw, `{"type":${json},"ref":${json}}`, `{"type":"post","channelId":${json}}`]) {
        expect(() => session.onMessage(text(t), false)).not.toThrow()
      }
      await tick()
      for (const frame of socket.sent) expect(isServerFrame(frame), JSON.stringify(frame)).toBe(true)
      gateway.close(session)
    }
  )
})

describe("session deadlines (driven by the gateway's deadline sweep)", () => {
  it("closes an unauthenticated session with 4002 at the auth deadline, never an authenticated one", () => {
    const { gateway } = makeGateway()
    const idle = new FakeSocket()
    const authed = new FakeSocket()
    const now = gateway.ctx.now()
    const a = gateway.open(idle, { ip: "10.0.1.1", unauthenticated: true }, undefined)
    const b = gateway.open(authed, { ip: "10.0.1.1", unauthenticated: true }, { userId: "dan" as UserId, sessionId: "s_dan" as SessionId, expiresAt: now + 10 * 60_000 })
    a.tick(now + 59_000)
    expect(idle.ended).toBeUndefined()
    a.tick(now + 60_000)
    b.tick(now + 60_000)
    expect(idle.ended).toEqual({ code: 4002, reason: "authentication timeout" })
    expect(authed.ended).toBeUndefined()
    gateway.close(a)
    gateway.close(b)
  })

  it("at token expiry sends unauthorized/token_expired then closes 4001, unless a fresh auth frame came first", async () => {
    const { gateway } = makeGateway()
    const now = gateway.ctx.now()
    const expiring = new FakeSocket()
    const renewed = new FakeSocket()
    const first = gateway.open(expiring, { ip: "10.0.1.2", unauthenticated: true }, { userId: "alice" as UserId, sessionId: "s_alice" as SessionId, expiresAt: now + 1000 })
    const second = gateway.open(renewed, { ip: "10.0.1.2", unauthenticated: true }, { userId: "alice" as UserId, sessionId: "s_alice" as SessionId, expiresAt: now + 1000 })
    const { token } = await Effect.runPromise(testAccessToken("alice"))
    second.onMessage(text(JSON.stringify({ type: "auth", token, ref: "re" })), false)
    // The signature check is asynchronous (WebCrypto): wait for its answer.
    await vi.waitFor(() => expect(renewed.sent.find((f) => f.ref === "re")).toMatchObject({ type: "authenticated", userId: "alice" }))
    first.tick(now + 1000)
    second.tick(now + 1000)
    expect(expiring.sent.at(-1)).toMatchObject({ type: "error", code: "unauthorized", reason: "token_expired" })
    expect(expiring.ended).toEqual({ code: 4001, reason: "token expired" })
    expect(renewed.ended).toBeUndefined()
    gateway.close(first)
    gateway.close(second)
  })
})

describe("frame encoding and decoding", () => {
  test.prop([
    fc.record({
      seq: fc.nat(),
      authorId: fc.stringMatching(/^[a-z]{1,8}$/),
      body: fc.string({ minLength: 1, maxLength: 50, unit: "grapheme" }).filter(isStorableText),
      clientMsgId: fc.string({ minLength: 1, maxLength: 16 }),
      createdAt: fc.nat()
    })
  ], { numRuns: 200 })("the prebuilt message frame encoder yields exactly what MessageFrame encodes", (m) => {
    const message = Schema.decodeUnknownSync(Message)({ ...m, id: `c1:${m.seq}`, channelId: "c1" })
    const fast = JSON.parse(encodeMessageFrame(message))
    expect(fast).toEqual(Schema.encodeSync(MessageFrame)({ type: "message", message }))
    expect(Schema.is(MessageFrame)(fast)).toBe(true)
  })

  it("closes with 1007 on a text frame that is not UTF-8 (where uWS delivers it) and refuses deep nesting", async () => {
    const { gateway } = makeGateway()
    const socket = new FakeSocket()
    const session = gateway.open(socket, { ip: "10.0.0.5", unauthenticated: true }, undefined)
    session.onMessage(text(`{"type":"ping","x":${"[".repeat(9)}${"]".repeat(9)}}`), false)
    await tick()
    expect(socket.sent.at(-1)).toMatchObject({ code: "invalid_frame", message: expect.stringContaining("deeper than 8") })
    session.onMessage(new Uint8Array([0x7b, 0xe9, 0x7d]).buffer, false)
    expect(socket.ended).toEqual({ code: 1007, reason: "invalid UTF-8" })
    gateway.close(session)
  })
})

describe("subscription index", () => {
  it("a revoke or retain touches only sessions following that channel", () => {
    const index = new Subscriptions()
    const expelled: Array<string> = []
    const member = (name: string, userId: string, channels: Array<string>) => {
      const m = { userId: userId as UserId, expel: (channelId: ChannelId) => void expelled.push(`${name}:${channelId}`) }
      index.open(m)
      index.setUser(m, userId as UserId)
      for (const c of channels) index.add(m, c as ChannelId).release = () => {}
      return m
    }
    member("a1", "alice", ["c1", "c2"])
    member("a2", "alice", ["c2"])
    member("b1", "bob", ["c1"])
    // Sessions on another channel are never asked.
    for (let i = 0; i < 100; i++) {
      const m = {
        userId: "alice" as UserId,
        expel: () => {
          throw new Error("an unaffected session was touched")
        }
      }
      index.open(m)
      index.setUser(m, "alice" as UserId)
      index.add(m, "c9" as ChannelId).release = () => {}
    }
    index.revoke("c1" as ChannelId, ["alice" as UserId])
    expect(expelled).toEqual(["a1:c1"])
    expelled.length = 0
    index.retain("c2" as ChannelId, new Set(["bob" as UserId]))
    expect(expelled.sort()).toEqual(["a1:c2", "a2:c2"])
    expect(index.sessionCount()).toBe(103)
  })
})
