/**
 * The `/ws` endpoint: authenticates the socket, decodes frames, applies the
 * per-connection rate limit and routes each frame to the shared chat
 * operations. Live messages never pass through here: the ChannelHub hands
 * them to uWS `publish`, and a subscribed socket receives them natively.
 */
import { Effect, Either, ParseResult, Runtime, Schema } from "effect"
import type { HttpRequest, HttpResponse, us_socket_context_t, WebSocket, WebSocketBehavior } from "uWebSockets.js"
import type { Message } from "../../domain/Channel.ts"
import type { ChannelId, UserId } from "../../domain/Ids.ts"
import { Unauthorized } from "../../domain/Errors.ts"
import { ClientFrame, CloseCode, type ErrorCode } from "../../domain/Protocol.ts"
import type { ChatService } from "../../src/api/ChatService.ts"
import type { DevTokens } from "../../src/auth/DevTokens.ts"
import type { ChannelHub } from "../../src/messaging/ChannelHub.ts"
import { uws } from "./Uws.ts"

export interface Connection {
  userId: UserId | undefined
  /** Channels this socket follows, or is being attached to (no `release` yet). */
  readonly subs: Map<ChannelId, Subscription>
  closed: boolean
  tokens: number
  refilledAt: number
  /** Frames refused for the rate limit in the current flood window. */
  refused: number
  refusedSince: number
  lastRateErrorAt: number
}

/** One subscribe of a socket to a channel; identity tells a superseded attempt from the current one. */
interface Subscription {
  /** Set once the attach succeeded: gives the edge feed's reference back. */
  release: (() => void) | undefined
}

export interface GatewayOptions {
  readonly maxFrameBytes: number
  readonly maxBackpressureBytes: number
  readonly rateLimit: number
  readonly rateBurst: number
  readonly idleTimeoutSeconds: number
  readonly nodeId: string
  readonly engine: string
}

export const topicOf = (channelId: ChannelId) => `c/${channelId}`

export const messageFrame = (message: Message) => `{"type":"message","message":${JSON.stringify(message)}}`

const decoders = new Map(
  ClientFrame.members.map((member) => [
    member.fields.type.literals[0] as string,
    Schema.decodeUnknownEither(member as Schema.Schema<ClientFrame, unknown>, { errors: "first", onExcessProperty: "ignore" })
  ])
)

/** `field: problem`, readable by a person debugging a client. */
const formatParseError = (error: ParseResult.ParseError) =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
    `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`
  ).join("; ")

const errorCodes: Record<string, ErrorCode> = {
  Unauthorized: "unauthorized",
  NotAMember: "not_a_member",
  ChannelNotFound: "channel_not_found",
  Forbidden: "forbidden",
  ChannelUnavailable: "channel_unavailable",
  ServiceUnavailable: "channel_unavailable",
  RateLimited: "rate_limited",
  InvalidRequest: "invalid_frame"
}

const describe = (error: { readonly _tag: string }) =>
  "message" in error && typeof error.message === "string" && error.message.length > 0 ? error.message : error._tag

/** Refuse the flood: after this many frames refused within `FLOOD_WINDOW_MS`, close with `CloseCode.flood`. */
const FLOOD_CLOSE_AFTER = 2000
const FLOOD_WINDOW_MS = 10_000

/** How often subscribed sockets are checked for a send buffer over the slow-consumer limit. */
const BACKPRESSURE_SWEEP_MS = 50

export interface Gateway {
  readonly behavior: WebSocketBehavior<Connection>
  /** Stops these users' live feeds of a channel (they left it); they get an `unsubscribed` frame. */
  readonly revoke: (channelId: ChannelId, userIds: ReadonlyArray<UserId>) => void
  /** Stops the live feeds of a channel for every user not in `members`. */
  readonly retain: (channelId: ChannelId, members: ReadonlySet<UserId>) => void
  /** Closes every open socket with `code` (shutdown: 1001, going away). */
  readonly closeAll: (code: number, reason: string) => void
}

export const makeGateway = (deps: {
  readonly options: GatewayOptions
  readonly runtime: Runtime.Runtime<never>
  /** Counts fan-out publishes on this edge; the slow-consumer sweep skips rounds with none. */
  readonly published: { readonly count: number }
  readonly chat: ChatService["Type"]
  readonly tokens: DevTokens["Type"]
  readonly hub: ChannelHub["Type"]
  readonly onCount: (delta: number) => void
}): Gateway => {
  const sockets = new Set<WebSocket<Connection>>()
  const { chat, hub, options, tokens } = deps
  const runFork = Runtime.runFork(deps.runtime)

  /**
   * Slow consumers. uWS's own `closeOnBackpressureLimit` drops the TCP
   * connection without a close frame (the client sees 1006), so we close
   * them ourselves with `CloseCode.slowConsumer` once the send buffer passes
   * `maxBackpressureBytes`. Live messages go through uWS `publish`, which we
   * never see per socket, so subscribed sockets are swept on a timer; direct
   * sends are checked right away. uWS's limit is set higher (the hard cap),
   * so the close frame still fits behind the backlog and nothing published
   * before the close is silently skipped.
   */
  const watched = new Set<WebSocket<Connection>>()
  let sweeper: ReturnType<typeof setInterval> | undefined

  const checkBackpressure = (ws: WebSocket<Connection>) => {
    const c = ws.getUserData()
    if (c.closed || ws.getBufferedAmount() <= options.maxBackpressureBytes) return
    c.closed = true
    ws.end(CloseCode.slowConsumer, "slow consumer")
  }

  const watch = (ws: WebSocket<Connection>) => {
    watched.add(ws)
    if (sweeper !== undefined) return
    let lastPublished = -1
    sweeper = setInterval(() => {
      // Send buffers only grow through publishes (direct sends are checked as they happen).
      if (deps.published.count === lastPublished) return
      lastPublished = deps.published.count
      for (const socket of watched) checkBackpressure(socket)
    }, BACKPRESSURE_SWEEP_MS)
    sweeper.unref()
  }

  const unwatch = (ws: WebSocket<Connection>) => {
    watched.delete(ws)
    if (watched.size === 0 && sweeper !== undefined) {
      clearInterval(sweeper)
      sweeper = undefined
    }
  }

  /**
   * Replies (acks, errors, …) are coalesced per socket and written in one
   * corked burst at the end of the current turn: a batch of acks completing
   * together costs one write per socket instead of one per message.
   * Catch-up messages are not deferred (see `subscribe`), so they stay ahead
   * of live ones.
   */
  const pending = new Map<WebSocket<Connection>, Array<string>>()
  const flush = () => {
    for (const [ws, frames] of pending) {
      if (ws.getUserData().closed) continue
      ws.cork(() => {
        for (const frame of frames) ws.send(frame)
      })
      checkBackpressure(ws)
    }
    pending.clear()
  }

  const send = (ws: WebSocket<Connection>, frame: object) => {
    if (ws.getUserData().closed) return
    const frames = pending.get(ws)
    if (frames !== undefined) return void frames.push(JSON.stringify(frame))
    if (pending.size === 0) queueMicrotask(flush)
    pending.set(ws, [JSON.stringify(frame)])
  }

  const sendError = (ws: WebSocket<Connection>, code: ErrorCode, message: string, ref?: string, extra?: object) =>
    send(ws, { type: "error", code, message, ...(ref === undefined ? {} : { ref }), ...extra })

  /** A typed failure as an error frame: its protocol code, a readable message and the error itself. */
  const sendFailure = (ws: WebSocket<Connection>, error: { readonly _tag: string }, ref: string | undefined) =>
    sendError(ws, errorCodes[error._tag] ?? "internal", describe(error), ref, { error })

  /** Runs a request's effect; a typed failure becomes an error frame, a defect an `internal` one. */
  const run = <E extends { readonly _tag: string }>(
    ws: WebSocket<Connection>,
    ref: string | undefined,
    effect: Effect.Effect<void, E>
  ) =>
    runFork(effect.pipe(
      Effect.catchAll((error) =>
        Effect.sync(() => sendFailure(ws, error, ref))
      ),
      Effect.catchAllDefect((defect) =>
        Effect.zipRight(
          Effect.logError("ws request died", defect),
          Effect.sync(() => sendError(ws, "internal", "internal error", ref))
        )
      )
    ))

  /** Token bucket per connection. */
  const admit = (ws: WebSocket<Connection>): boolean => {
    const c = ws.getUserData()
    const now = Date.now()
    c.tokens = Math.min(options.rateBurst, c.tokens + ((now - c.refilledAt) / 1000) * options.rateLimit)
    c.refilledAt = now
    if (c.tokens >= 1) {
      c.tokens -= 1
      return true
    }
    // Refusals are counted per window, not "in a row": a client flooding at
    // full speed still gets a token now and then, which must not reset it.
    if (now - c.refusedSince > FLOOD_WINDOW_MS) {
      c.refusedSince = now
      c.refused = 0
    }
    c.refused++
    if (c.refused >= FLOOD_CLOSE_AFTER) {
      c.closed = true
      ws.end(CloseCode.flood, "rate limit exceeded")
      return false
    }
    if (now - c.lastRateErrorAt >= 100) {
      c.lastRateErrorAt = now
      sendError(ws, "rate_limited", "too many frames", undefined, {
        retryAfterMs: Math.ceil(((1 - c.tokens) / options.rateLimit) * 1000)
      })
    }
    return false
  }

  /** Ends a socket's subscription to a channel (unsubscribe, leaving a private channel). */
  const dropSubscription = (ws: WebSocket<Connection>, channelId: ChannelId) => {
    const c = ws.getUserData()
    const sub = c.subs.get(channelId)
    if (sub === undefined) return false
    c.subs.delete(channelId)
    ws.unsubscribe(topicOf(channelId))
    // A pending attach sees it is no longer wanted, stops its catch-up and releases its own reference.
    sub.release?.()
    if (c.subs.size === 0) unwatch(ws)
    return true
  }

  const subscribe = (ws: WebSocket<Connection>, userId: UserId, channelId: ChannelId, lastSeq: number | undefined, ref: string | undefined) => {
    const c = ws.getUserData()
    const existing = c.subs.get(channelId)
    if (existing !== undefined) {
      if (existing.release === undefined) return sendError(ws, "invalid_frame", "subscribe already in progress", ref)
      // A fresh subscribe on a followed channel restarts it from the new lastSeq.
      dropSubscription(ws, channelId)
    }
    const sub: Subscription = { release: undefined }
    c.subs.set(channelId, sub)
    watch(ws)
    const current = () => !c.closed && c.subs.get(channelId) === sub
    run(ws, ref, hub.attach(channelId, userId, lastSeq, {
      wanted: current,
      deliver: (messages) => {
        if (!current()) return
        ws.cork(() => {
          for (const m of messages) ws.send(messageFrame(m))
        })
        checkBackpressure(ws)
      },
      follow: () => {
        if (current()) ws.subscribe(topicOf(channelId))
      }
    }).pipe(
      Effect.tap(({ head, release }) =>
        Effect.sync(() => {
          // Closed, unsubscribed or revoked while attaching: give the reference back.
          if (!current()) return release()
          sub.release = release
          send(ws, { type: "subscribed", channelId, head, ...(ref === undefined ? {} : { ref }) })
        })
      ),
      Effect.asVoid,
      Effect.catchAll((error) => {
        // A subscription dropped meanwhile has been answered already (unsubscribed, or the socket is gone).
        if (!current()) return Effect.void
        c.subs.delete(channelId)
        // `follow` may already have joined the topic before the attach failed.
        ws.unsubscribe(topicOf(channelId))
        if (c.subs.size === 0) unwatch(ws)
        return Effect.fail(error)
      })
    ))
  }

  /** Sockets per user, to stop the live feeds of a user who left a private channel. */
  const byUser = new Map<UserId, Set<WebSocket<Connection>>>()
  const indexUser = (ws: WebSocket<Connection>, userId: UserId) => {
    const set = byUser.get(userId)
    if (set === undefined) byUser.set(userId, new Set([ws]))
    else set.add(ws)
  }
  const unindexUser = (ws: WebSocket<Connection>, userId: UserId) => {
    const set = byUser.get(userId)
    if (set === undefined) return
    set.delete(ws)
    if (set.size === 0) byUser.delete(userId)
  }

  /**
   * Ends a socket's live feed of a channel its user may no longer read. Only
   * subscriptions that are following: an attach in progress is stopped by the
   * hub, and its subscribe is answered with `not_a_member`.
   */
  const expel = (ws: WebSocket<Connection>, channelId: ChannelId) => {
    if (ws.getUserData().subs.get(channelId)?.release === undefined) return
    dropSubscription(ws, channelId)
    send(ws, { type: "unsubscribed", channelId, reason: "not_a_member" })
  }

  /** Drops every subscription to `channelId` whose user is not in `members` (an edge feed reopened on a private channel). */
  const retain = (channelId: ChannelId, members: ReadonlySet<UserId>) => {
    for (const ws of sockets) {
      const userId = ws.getUserData().userId
      if (userId !== undefined && !members.has(userId)) expel(ws, channelId)
    }
  }

  const revoke = (channelId: ChannelId, userIds: ReadonlyArray<UserId>) => {
    for (const userId of userIds) for (const ws of byUser.get(userId) ?? []) expel(ws, channelId)
  }

  const handle = (ws: WebSocket<Connection>, frame: ClientFrame) => {
    const c = ws.getUserData()
    const ref = frame.ref
    if (frame.type === "ping") return send(ws, { type: "pong", ...(ref === undefined ? {} : { ref }) })
    if (frame.type === "auth") {
      return run(ws, ref, Effect.flatMap(tokens.verify(frame.token), (userId) => {
        // A socket is one user's: a fresh token for the same user is fine, another user needs another socket.
        if (c.userId !== undefined && c.userId !== userId) {
          return Effect.fail(new Unauthorized({ message: `this connection is authenticated as ${c.userId}` }))
        }
        if (!c.closed && c.userId === undefined) indexUser(ws, userId)
        c.userId = userId
        send(ws, { type: "authenticated", userId, ...(ref === undefined ? {} : { ref }) })
        return Effect.void
      }))
    }
    const userId = c.userId
    if (userId === undefined) return sendError(ws, "unauthorized", "send an auth frame first", ref)
    switch (frame.type) {
      case "subscribe":
        return subscribe(ws, userId, frame.channelId, frame.lastSeq, ref)
      case "unsubscribe": {
        // Also cancels a subscribe still in progress.
        if (!dropSubscription(ws, frame.channelId)) return sendError(ws, "not_subscribed", "not subscribed", ref)
        return send(ws, { type: "unsubscribed", channelId: frame.channelId, ...(ref === undefined ? {} : { ref }) })
      }
      case "post":
        // The hot path: no fiber per message, the outbox calls back once committed.
        return chat.submit(userId, frame.channelId, frame.clientMsgId, frame.body, (result) => {
          if (Either.isLeft(result)) {
            return sendFailure(ws, result.left, ref)
          }
          const m = result.right
          send(ws, {
            type: "ack",
            channelId: m.channelId,
            clientMsgId: frame.clientMsgId,
            id: m.id,
            seq: m.seq,
            createdAt: m.createdAt,
            ...(ref === undefined ? {} : { ref })
          })
        })
      case "history":
        return run(ws, ref, Effect.map(chat.history(userId, frame.channelId, frame.afterSeq, frame.limit), (messages) =>
          send(ws, { type: "history", channelId: frame.channelId, messages, ...(ref === undefined ? {} : { ref }) })))
    }
  }

  const behavior: WebSocketBehavior<Connection> = {
    compression: uws.DISABLED,
    // Above this hard cap uWS drops the TCP connection without a close frame
    // (the client sees 1006, not 1009); between the configured limit and the
    // cap we answer `frame_too_large` and keep the connection.
    maxPayloadLength: Math.max(options.maxFrameBytes * 4, 1024 * 1024),
    // The hard cap: past it uWS skips messages and drops the connection
    // (1006); the sweep above closes at `maxBackpressureBytes` with 4008 first.
    maxBackpressure: options.maxBackpressureBytes + Math.max(options.maxBackpressureBytes, 1024 * 1024),
    closeOnBackpressureLimit: 1,
    idleTimeout: options.idleTimeoutSeconds,
    sendPingsAutomatically: true,

    upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
      const key = req.getHeader("sec-websocket-key")
      const protocol = req.getHeader("sec-websocket-protocol")
      const extensions = req.getHeader("sec-websocket-extensions")
      const token = new URLSearchParams(req.getQuery() ?? "").get("token")
      const connection: Connection = {
        userId: undefined,
        subs: new Map(),
        closed: false,
        tokens: options.rateBurst,
        refilledAt: Date.now(),
        refused: 0,
        refusedSince: 0,
        lastRateErrorAt: 0
      }
      if (token === null) return void res.upgrade(connection, key, protocol, extensions, context)
      let aborted = false
      res.onAborted(() => {
        aborted = true
      })
      runFork(Effect.either(tokens.verify(token)).pipe(Effect.map((result) => {
        if (aborted) return
        if (Either.isLeft(result)) {
          return res.cork(() => {
            res.writeStatus("401 Unauthorized").writeHeader("content-type", "application/json")
              .end(JSON.stringify({ _tag: "Unauthorized", message: result.left.message }))
          })
        }
        connection.userId = result.right
        res.cork(() => res.upgrade(connection, key, protocol, extensions, context))
      })))
    },

    open: (ws) => {
      deps.onCount(1)
      sockets.add(ws)
      const c = ws.getUserData()
      if (c.userId !== undefined) indexUser(ws, c.userId)
      send(ws, {
        type: "hello",
        nodeId: options.nodeId,
        engine: options.engine,
        ...(c.userId === undefined ? {} : { userId: c.userId }),
        maxFrameBytes: options.maxFrameBytes
      })
    },

    message: (ws, data, isBinary) => {
      if (!admit(ws)) return
      if (data.byteLength > options.maxFrameBytes) {
        return sendError(ws, "frame_too_large", `frames are limited to ${options.maxFrameBytes} bytes`)
      }
      if (isBinary) return sendError(ws, "binary_not_supported", "frames are JSON text")
      let json: unknown
      try {
        json = JSON.parse(Buffer.from(data).toString("utf8"))
      } catch {
        return sendError(ws, "bad_json", "frame is not valid JSON")
      }
      const type = typeof json === "object" && json !== null && "type" in json ? (json as { type: unknown }).type : undefined
      const ref = typeof json === "object" && json !== null && "ref" in json && typeof (json as { ref: unknown }).ref === "string"
        ? (json as { ref: string }).ref
        : undefined
      const decode = typeof type === "string" ? decoders.get(type) : undefined
      if (decode === undefined) return sendError(ws, "unknown_type", `unknown frame type: ${String(type)}`, ref)
      const decoded = decode(json)
      if (Either.isLeft(decoded)) return sendError(ws, "invalid_frame", formatParseError(decoded.left), ref)
      handle(ws, decoded.right)
    },

    close: (ws) => {
      deps.onCount(-1)
      sockets.delete(ws)
      const c = ws.getUserData()
      c.closed = true
      pending.delete(ws)
      unwatch(ws)
      if (c.userId !== undefined) unindexUser(ws, c.userId)
      // A pending attach sees the socket closed, stops its catch-up and releases its own reference.
      for (const sub of c.subs.values()) sub.release?.()
      c.subs.clear()
    }
  }

  return {
    behavior,
    revoke,
    retain,
    closeAll: (code, reason) => {
      for (const ws of Array.from(sockets)) {
        const c = ws.getUserData()
        if (c.closed) continue
        c.closed = true
        ws.end(code, reason)
      }
    }
  }
}
