/**
 * The uWS-free gateway and revocation: sockets of an ended session or a
 * disabled account get an error frame and close 4003, others stay; a token
 * whose session ended between its check and the socket taking it closes the
 * socket too; and a socket is warned (`token_expiring`) before its token
 * expires. Sessions are driven through a fake socket with claims made by
 * hand; chat and hub die on any use.
 */
import { Runtime, Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { SessionId, UserId } from "../../domain/Ids.ts"
import { ServerFrame } from "../../domain/Protocol.ts"
import type { RevocationsShape } from "../../src/auth/Revocations.ts"
import { TokenVerifier } from "../../src/auth/TokenVerifier.ts"
import { Gateway } from "../../src/gateway/Gateway.ts"
import type { SessionSocket } from "../../src/gateway/GatewayContext.ts"
import { Subscriptions } from "../../src/gateway/Subscriptions.ts"
import { unitGatewayOptions } from "../fixtures/GatewayOptions.ts"

const dies = <T extends object>(name: string): T =>
  new Proxy({} as T, {
    get: (_, key) => {
      throw new Error(`${name}.${String(key)} was not expected`)
    }
  })

class FakeSocket implements SessionSocket {
  readonly sent: Array<Record<string, any>> = []
  ended: { code: number; reason: string } | undefined
  send = (text: string) => void this.sent.push(JSON.parse(text))
  cork = (f: () => void) => f()
  end = (code: number, reason: string) => {
    this.ended = { code, reason }
  }
  close = () => {}
  subscribe = () => {}
  unsubscribe = () => {}
  bufferedAmount = () => 0
}

const uid = (s: string) => s as UserId
const sid = (s: string) => s as SessionId

const makeGateway = (revokedSessions: Set<string>) => {
  const revocations: RevocationsShape = {
    reasonFor: (_userId, sessionId) => (sessionId !== undefined && revokedSessions.has(sessionId) ? "session_revoked" : undefined),
    refresh: dies("refresh"),
    listen: () => () => {}
  }
  return new Gateway({
    runtime: Runtime.defaultRuntime,
    subscriptions: new Subscriptions(),
    chat: dies("chat"),
    hub: dies("hub"),
    tokens: TokenVerifier.make([]),
    revocations,
    options: { ...unitGatewayOptions, expiryWarningMs: 5_000 }
  })
}

const open = (gateway: Gateway, userId: string, sessionId: string, expiresAt = Date.now() + 60_000) => {
  const socket = new FakeSocket()
  const session = gateway.open(socket, { ip: "10.0.0.1", unauthenticated: false }, {
    userId: uid(userId),
    sessionId: sid(sessionId),
    expiresAt
  })
  return { socket, session }
}

const isServerFrame = Schema.is(ServerFrame)

describe("gateway revocation (fake socket)", () => {
  it("closes with an error frame and 4003 exactly the sockets of the ended sessions and disabled accounts", () => {
    const gateway = makeGateway(new Set())
    const ended = open(gateway, "alice", "s1")
    const kept = open(gateway, "alice", "s2")
    const disabled = open(gateway, "bob", "s3")
    gateway.endRevoked({ sessions: new Set([sid("s1")]), users: new Set([uid("bob")]) })
    expect(ended.socket.ended).toEqual({ code: 4003, reason: "session revoked" })
    expect(ended.socket.sent.at(-1)).toMatchObject({ type: "error", code: "unauthorized", reason: "session_revoked" })
    expect(disabled.socket.ended).toEqual({ code: 4003, reason: "account disabled" })
    expect(disabled.socket.sent.at(-1)).toMatchObject({ type: "error", code: "unauthorized", reason: "account_disabled" })
    expect(kept.socket.ended).toBeUndefined()
    for (const frame of [...ended.socket.sent, ...disabled.socket.sent]) expect(isServerFrame(frame), JSON.stringify(frame)).toBe(true)
  })

  it("closes a socket that takes a token whose session ended after the token was checked", () => {
    const gateway = makeGateway(new Set(["late"]))
    const { socket } = open(gateway, "carol", "late")
    expect(socket.ended).toEqual({ code: 4003, reason: "session revoked" })
    expect(socket.sent.map((f) => f.type)).toEqual(["error"])
  })

  it("warns once, expiryWarningMs before the token expires, then closes with 4001 at expiry", async () => {
    const gateway = makeGateway(new Set())
    const expiresAt = Date.now() + 60_000
    const { session, socket } = open(gateway, "dan", "s4", expiresAt)
    const warnings = async () => {
      // Replies (the warning is one) are written by a microtask the reply batcher queued when it took the first one;
      // microtasks run in order, so it has run when this await resumes.
      await Promise.resolve()
      return socket.sent.filter((f) => f.type === "token_expiring")
    }
    session.tick(expiresAt - 5_001)
    expect(await warnings()).toEqual([])
    session.tick(expiresAt - 5_000)
    session.tick(expiresAt - 4_000)
    expect(await warnings()).toEqual([{ type: "token_expiring", expiresAt }])
    expect(socket.ended).toBeUndefined()
    session.tick(expiresAt)
    expect(socket.ended).toEqual({ code: 4001, reason: "token expired" })
  })
})
