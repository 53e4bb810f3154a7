/**
 * The `/ws` endpoint on uWS: a thin adapter over `Gateway`
 * (src/gateway/Gateway.ts). At upgrade it checks the `Origin`
 * (docs/PROTOCOL.md#origin), applies the per-address limits and checks a
 * query token, then forwards each socket's events to its
 * `Session`. Every handler is guarded: an unexpected exception is logged and
 * never leaves a uWS callback (it would kill the process). Live messages
 * never pass through here: the ChannelHub hands them to uWS `publish`.
 */
import { Duration, Either, type Runtime } from "effect"
import type { HttpRequest, HttpResponse, us_socket_context_t, WebSocket, WebSocketBehavior } from "uWebSockets.js"
import type { ChatService } from "../../src/api/ChatService.ts"
import type { Ended, RevocationsShape } from "../../src/auth/Revocations.ts"
import type { TokenClaims, TokenVerifier } from "../../src/auth/TokenVerifier.ts"
import { addressKey } from "../../src/gateway/AddressKey.ts"
import type { LimitKind } from "../../src/gateway/ConnectionLimits.ts"
import { Gateway } from "../../src/gateway/Gateway.ts"
import type { SessionSocket } from "../../src/gateway/GatewayContext.ts"
import type { Session } from "../../src/gateway/Session.ts"
import type { Subscriptions } from "../../src/gateway/Subscriptions.ts"
import type { ChannelHub } from "../../src/messaging/ChannelHub.ts"
import type { HeaderList } from "./SecurityHeaders.ts"
import { uws, type WebsocketEngine } from "./Uws.ts"
import type { WsConfigShape } from "./WsConfig.ts"

/** What uWS keeps per socket; it is also the session's `Origin`. */
export interface SocketData {
  readonly ip: string
  /** The peer's address as uWS reports it (the audit log records it; `ip` is its per-address limit key). */
  readonly address: string
  unauthenticated: boolean
  /** The query token's claims, until the socket opens. */
  claims: TokenClaims | undefined
  session: Session | undefined
}

/** The session's view of a uWS socket: one small object per socket, methods on the prototype. */
class UwsSocket implements SessionSocket {
  constructor(private readonly ws: WebSocket<SocketData>) {}
  send(text: string) {
    this.ws.send(text)
  }
  cork(f: () => void) {
    this.ws.cork(f)
  }
  end(code: number, reason: string) {
    this.ws.end(code, reason)
  }
  close() {
    this.ws.close()
  }
  subscribe(topic: string) {
    this.ws.subscribe(topic)
  }
  unsubscribe(topic: string) {
    this.ws.unsubscribe(topic)
  }
  bufferedAmount() {
    return this.ws.getBufferedAmount()
  }
}

/** What the upgrade handler needs besides the gateway: the node's security headers and its Origin rule. */
export interface UpgradePolicy {
  /** Written on every refused upgrade (SecurityHeaders.ts). */
  readonly headers: HeaderList
  /** Whether an upgrade with this `Origin` (`""`: none) and `Host` may proceed (OriginPolicy.ts, `upgradeAllows`). */
  readonly originAllowed: (origin: string, host: string) => boolean
}

/** A refused upgrade: status, the security headers and a typed JSON body; no socket is opened. */
const answer = (res: HttpResponse, policy: UpgradePolicy, status: string, body: object) =>
  res.cork(() => {
    res.writeStatus(status).writeHeader("content-type", "application/json")
    for (const [name, value] of policy.headers) res.writeHeader(name, value)
    res.end(JSON.stringify(body))
  })

/** HTTP 429 for an upgrade over a per-address limit (docs/PROTOCOL.md#limits). */
const tooMany = (res: HttpResponse, policy: UpgradePolicy, kind: LimitKind) =>
  answer(res, policy, "429 Too Many Requests", {
    _tag: "TooManyConnections",
    limit: kind,
    message: kind === "connections_per_ip"
      ? "too many WebSocket connections from this address"
      : kind === "connections_per_user"
      ? "too many WebSocket connections of this user on this node; close one first"
      : "too many unauthenticated WebSocket connections from this address; authenticate with ?token="
  })

/** HTTP 403 for an upgrade from an origin that may not open a socket here (docs/PROTOCOL.md#origin). */
const foreignOrigin = (res: HttpResponse, policy: UpgradePolicy, origin: string) =>
  answer(res, policy, "403 Forbidden", {
    _tag: "Forbidden",
    message: `WebSocket upgrade refused: origin ${JSON.stringify(origin.slice(0, 200))} may not open a socket on this ` +
      "node (same-origin only, plus PLEXI_WS_ALLOWED_ORIGINS)"
  })

const upgradeWith = (gateway: Gateway, tokens: TokenVerifier["Type"], policy: UpgradePolicy) =>
(res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
  // uWS invalidates `req` after this handler returns: read everything first.
  const origin = req.getHeader("origin")
  // Checked first: a page on another site learns nothing else (no limit, no token check) and costs nothing.
  if (!policy.originAllowed(origin, req.getHeader("host"))) return foreignOrigin(res, policy, origin)
  const key = req.getHeader("sec-websocket-key")
  const protocol = req.getHeader("sec-websocket-protocol")
  const extensions = req.getHeader("sec-websocket-extensions")
  const token = new URLSearchParams(req.getQuery() ?? "").get("token")
  // Accounted per address key: an IPv6 client per /64, which one host or customer usually holds whole.
  const address = Buffer.from(res.getRemoteAddressAsText()).toString()
  const ip = addressKey(address)
  if (token === null) {
    const over = gateway.admit(ip, false)
    if (over !== undefined) return tooMany(res, policy, over)
    return void res.upgrade<SocketData>({ ip, address, unauthenticated: true, claims: undefined, session: undefined }, key, protocol, extensions, context)
  }
  // Checked here, synchronously: an upgrade after an await (inside `res.cork`, as uWS asks) can close the new socket
  // at once on this uWS build (src/auth/Hs256Check.ts says why), and without the cork it logs a warning per upgrade.
  const result = tokens.verifyClaimsNow(token, Date.now())
  if (Either.isLeft(result)) return answer(res, policy, "401 Unauthorized", { _tag: "Unauthorized", message: result.left.message })
  const over = gateway.admit(ip, true, result.right.userId)
  if (over !== undefined) return tooMany(res, policy, over)
  res.upgrade<SocketData>({ ip, address, unauthenticated: false, claims: result.right, session: undefined }, key, protocol, extensions, context)
}

type NodeWsOptions = WsConfigShape & { readonly nodeId: string; readonly engine: WebsocketEngine }

/** The gateway's options from the node's settings (durations in milliseconds). */
const gatewayOptions = (options: NodeWsOptions) => ({
  ...options,
  floodWindowMs: Duration.toMillis(options.floodWindow),
  authTimeoutMs: Duration.toMillis(options.authTimeout),
  expiryWarningMs: Duration.toMillis(options.tokenExpiryWarning),
  drainTimeoutMs: Duration.toMillis(options.drainTimeout),
  backpressureSweepMs: Duration.toMillis(options.backpressureSweepInterval),
  limits: {
    maxPerIp: options.maxConnectionsPerIp,
    maxUnauthenticatedPerIp: options.maxUnauthenticatedPerIp,
    maxPerUser: options.maxConnectionsPerUser,
    logIntervalMs: Duration.toMillis(options.limitLogInterval)
  }
})

export const makeGateway = (deps: {
  readonly options: NodeWsOptions
  readonly runtime: Runtime.Runtime<never>
  readonly subscriptions: Subscriptions
  readonly chat: ChatService["Type"]
  readonly tokens: TokenVerifier["Type"]
  readonly hub: ChannelHub["Type"]
  readonly revocations: RevocationsShape
  readonly policy: UpgradePolicy
}) => {
  const { options } = deps
  const gateway = new Gateway({ ...deps, options: gatewayOptions(options) })
  const upgrade = upgradeWith(gateway, deps.tokens, deps.policy)

  /** Runs a uWS callback; an exception is logged, never thrown back into uWS. */
  const guarded = <A extends Array<any>>(name: string, f: (...args: A) => void) => (...args: A) => {
    try {
      f(...args)
    } catch (error) {
      gateway.logError(`ws ${name} handler failed`, error)
    }
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
        gateway.logError("ws upgrade handler failed", error)
        try {
          answer(res, deps.policy, "500 Internal Server Error", { _tag: "Internal", message: "internal error; it was logged on the server" })
        } catch {
          // The request is gone (aborted or already answered).
        }
      }
    },
    open: guarded("open", (ws: WebSocket<SocketData>) => {
      const data = ws.getUserData()
      data.session = gateway.open(new UwsSocket(ws), data, data.claims)
      data.claims = undefined
    }),
    message: guarded("message", (ws: WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean) => {
      const session = ws.getUserData().session
      if (session !== undefined) session.guard(() => session.onMessage(message, isBinary))
    }),
    drain: guarded("drain", (ws: WebSocket<SocketData>) => ws.getUserData().session?.onDrain()),
    close: guarded("close", (ws: WebSocket<SocketData>) => {
      const session = ws.getUserData().session
      if (session !== undefined) gateway.close(session)
    })
  }

  return { behavior, closeAll: gateway.closeAll.bind(gateway), endRevoked: (ended: Ended) => gateway.endRevoked(ended) }
}
