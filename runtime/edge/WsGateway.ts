/**
 * The `/ws` endpoint on uWS: a thin adapter. It enforces the per-address
 * limits at upgrade, checks a query token, and forwards each socket's events
 * to its `Session` (src/gateway/Session.ts), which does everything else.
 * Every handler is guarded: an unexpected exception is logged and never
 * leaves a uWS callback (it would kill the process). Live messages never pass
 * through here: the ChannelHub hands them to uWS `publish`.
 */
import { Duration, Effect, Either, Runtime } from "effect"
import type { HttpRequest, HttpResponse, us_socket_context_t, WebSocket, WebSocketBehavior } from "uWebSockets.js"
import type { ChatService } from "../../src/api/ChatService.ts"
import type { DevTokens, TokenClaims } from "../../src/auth/DevTokens.ts"
import { BackpressureSweep } from "../../src/gateway/BackpressureSweep.ts"
import { ConnectionLimits, type LimitKind } from "../../src/gateway/ConnectionLimits.ts"
import { makeFrameDecoder } from "../../src/gateway/FrameDecoder.ts"
import type { GatewayContext, SessionSocket } from "../../src/gateway/GatewayContext.ts"
import { ReplyBatcher } from "../../src/gateway/ReplyBatcher.ts"
import { Session } from "../../src/gateway/Session.ts"
import type { Subscriptions } from "../../src/gateway/Subscriptions.ts"
import type { ChannelHub } from "../../src/messaging/ChannelHub.ts"
import { uws, type WebsocketEngine } from "./Uws.ts"
import type { WsConfigShape } from "./WsConfig.ts"

/** What uWS keeps per socket. */
export interface SocketData {
  readonly ip: string
  readonly claims: TokenClaims | undefined
  session: Session | undefined
  /** Counted against `PLEXI_WS_MAX_UNAUTHENTICATED_PER_IP`. */
  unauthenticated: boolean
}

export interface Gateway {
  readonly behavior: WebSocketBehavior<SocketData>
  /** Closes every open socket with `code` (shutdown: 1001, going away). */
  readonly closeAll: (code: number, reason: string) => void
}

const socketOf = (ws: WebSocket<SocketData>): SessionSocket => ({
  send: (text) => void ws.send(text),
  cork: (f) => void ws.cork(f),
  end: (code, reason) => ws.end(code, reason),
  subscribe: (topic) => void ws.subscribe(topic),
  unsubscribe: (topic) => void ws.unsubscribe(topic),
  bufferedAmount: () => ws.getBufferedAmount()
})

const answer = (res: HttpResponse, status: string, body: object) =>
  res.cork(() => res.writeStatus(status).writeHeader("content-type", "application/json").end(JSON.stringify(body)))

const tooMany = (res: HttpResponse, kind: LimitKind) =>
  answer(res, "429 Too Many Requests", {
    _tag: "TooManyConnections",
    limit: kind,
    message: kind === "connections_per_ip"
      ? "too many WebSocket connections from this address"
      : "too many unauthenticated WebSocket connections from this address; authenticate with ?token="
  })

export const makeGateway = (deps: {
  readonly options: WsConfigShape & { readonly nodeId: string; readonly engine: WebsocketEngine }
  readonly runtime: Runtime.Runtime<never>
  readonly subscriptions: Subscriptions
  readonly chat: ChatService["Type"]
  readonly tokens: DevTokens["Type"]
  readonly hub: ChannelHub["Type"]
}): Gateway => {
  const { options, subscriptions } = deps
  const runFork = Runtime.runFork(deps.runtime)
  const clock = Runtime.runSync(deps.runtime)(Effect.clock)
  const now = () => clock.unsafeCurrentTimeMillis()
  const logError = (message: string, cause: unknown) => void runFork(Effect.logError(message, cause))
  const limits = new ConnectionLimits({
    maxPerIp: options.maxConnectionsPerIp,
    maxUnauthenticatedPerIp: options.maxUnauthenticatedPerIp,
    logIntervalMs: Duration.toMillis(options.limitLogInterval)
  }, (message) => void runFork(Effect.logWarning(message)))
  const sweep = new BackpressureSweep(
    Duration.toMillis(options.backpressureSweepInterval),
    () => subscriptions.publishedCount(),
    (error) => logError("ws backpressure check failed", error)
  )
  const sessions = new Map<Session, SocketData>()
  const ctx: GatewayContext = {
    options: { ...options, floodWindowMs: Duration.toMillis(options.floodWindow), authTimeoutMs: Duration.toMillis(options.authTimeout) },
    chat: deps.chat,
    hub: deps.hub,
    tokens: deps.tokens,
    subscriptions,
    replies: new ReplyBatcher(),
    decode: makeFrameDecoder(options),
    runFork: (effect) => void runFork(effect),
    now,
    logError,
    watch: (session) => sweep.watch(session),
    unwatch: (session) => sweep.unwatch(session),
    onAuthenticated: (session) => {
      const data = sessions.get(session)
      if (data === undefined || !data.unauthenticated) return
      data.unauthenticated = false
      limits.authenticated(data.ip)
    }
  }

  /** Runs a uWS callback; an exception is logged, never thrown back into uWS. */
  const guarded = <A extends Array<any>>(name: string, f: (...args: A) => void) => (...args: A) => {
    try {
      f(...args)
    } catch (error) {
      logError(`ws ${name} handler failed`, error)
    }
  }

  const upgrade = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
    const key = req.getHeader("sec-websocket-key")
    const protocol = req.getHeader("sec-websocket-protocol")
    const extensions = req.getHeader("sec-websocket-extensions")
    const token = new URLSearchParams(req.getQuery() ?? "").get("token")
    const ip = Buffer.from(res.getRemoteAddressAsText()).toString()
    if (token === null) {
      const over = limits.check(ip, false, now())
      if (over !== undefined) return tooMany(res, over)
      const data: SocketData = { ip, claims: undefined, session: undefined, unauthenticated: true }
      return void res.upgrade(data, key, protocol, extensions, context)
    }
    let aborted = false
    res.onAborted(() => {
      aborted = true
    })
    runFork(Effect.either(deps.tokens.verifyClaims(token)).pipe(Effect.map((result) => {
      if (aborted) return
      if (Either.isLeft(result)) return answer(res, "401 Unauthorized", { _tag: "Unauthorized", message: result.left.message })
      const over = limits.check(ip, true, now())
      if (over !== undefined) return tooMany(res, over)
      const data: SocketData = { ip, claims: result.right, session: undefined, unauthenticated: false }
      res.cork(() => res.upgrade(data, key, protocol, extensions, context))
    }), Effect.catchAllDefect((defect) => Effect.sync(() => logError("ws upgrade failed", defect)))))
  }

  const open = (ws: WebSocket<SocketData>) => {
    const data = ws.getUserData()
    limits.opened(data.ip, !data.unauthenticated)
    const session = new Session(ctx, socketOf(ws), data.claims)
    data.session = session
    sessions.set(session, data)
    session.send({
      type: "hello",
      nodeId: options.nodeId,
      engine: options.engine,
      ...(data.claims === undefined ? {} : { userId: data.claims.userId }),
      maxFrameBytes: options.maxFrameBytes
    })
  }

  const close = (ws: WebSocket<SocketData>) => {
    const data = ws.getUserData()
    limits.closed(data.ip, !data.unauthenticated)
    const session = data.session
    if (session === undefined) return
    sessions.delete(session)
    session.onClose()
  }

  const behavior: WebSocketBehavior<SocketData> = {
    compression: uws.DISABLED,
    // Above this hard cap uWS drops the TCP connection without a close frame
    // (the client sees 1006, not 1009); between the configured limit and the
    // cap we answer `frame_too_large` and keep the connection.
    maxPayloadLength: Math.max(options.maxFrameBytes * 4, 1024 * 1024),
    // The hard cap: past it uWS skips messages and drops the connection
    // (1006); the session stops writing at `maxBackpressureBytes` first.
    maxBackpressure: options.maxBackpressureBytes + Math.max(options.maxBackpressureBytes, 1024 * 1024),
    closeOnBackpressureLimit: 1,
    idleTimeout: options.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      try {
        upgrade(res, req, context)
      } catch (error) {
        logError("ws upgrade handler failed", error)
        answer(res, "500 Internal Server Error", { _tag: "Internal", message: "internal error; it was logged on the server" })
      }
    },
    open: guarded("open", open),
    message: guarded("message", (ws: WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean) => {
      const session = ws.getUserData().session
      if (session !== undefined) session.guard(() => session.onMessage(message, isBinary))
    }),
    drain: guarded("drain", (ws: WebSocket<SocketData>) => ws.getUserData().session?.onDrain()),
    close: guarded("close", close)
  }

  return {
    behavior,
    closeAll: (code, reason) => {
      for (const session of Array.from(sessions.keys())) session.end(code, reason)
      sweep.stop()
    }
  }
}
