/**
 * The WebSocket gateway of one edge, free of uWS: the sessions it serves,
 * the per-address limits, the slow-consumer sweep and what its sessions
 * share (`GatewayContext`). The uWS adapter (runtime/edge/WsGateway.ts) calls
 * `admit` at upgrade, `open` and `close` per socket.
 */
import { Effect, Runtime } from "effect"
import type { UserId } from "../../domain/Ids.ts"
import type { ChatService } from "../api/ChatService.ts"
import type { Ended, RevocationsShape } from "../auth/Revocations.ts"
import type { TokenClaims, TokenVerifier } from "../auth/TokenVerifier.ts"
import type { ChannelHub } from "../messaging/ChannelHub.ts"
import { BackpressureSweep } from "./BackpressureSweep.ts"
import { type ConnectionLimitOptions, ConnectionLimits, type LimitKind } from "./ConnectionLimits.ts"
import { makeFrameDecoder, makeRefReader } from "./FrameDecoder.ts"
import type { GatewayContext, SessionOptions, SessionSocket } from "./GatewayContext.ts"
import { ReplyBatcher } from "./ReplyBatcher.ts"
import { Session } from "./Session.ts"
import type { Subscriptions } from "./Subscriptions.ts"

export interface GatewayOptions extends SessionOptions {
  readonly limits: ConnectionLimitOptions
  readonly backpressureSweepMs: number
  /** Shown in `hello`. */
  readonly nodeId: string
  readonly engine: "uws-native" | "ws-fallback"
}

export interface GatewayDeps {
  readonly options: GatewayOptions
  readonly runtime: Runtime.Runtime<never>
  readonly subscriptions: Subscriptions
  readonly chat: ChatService["Type"]
  readonly tokens: TokenVerifier["Type"]
  readonly hub: ChannelHub["Type"]
  readonly revocations: RevocationsShape
}

/** Where a session comes from, for the per-address accounting (the adapter's per-socket data serves). */
export interface Origin {
  /** The per-address limit key (AddressKey.ts). */
  readonly ip: string
  /** The peer's address as the socket reports it, recorded in audit entries (default: `ip`). */
  readonly address?: string
  unauthenticated: boolean
}

export class Gateway {
  readonly ctx: GatewayContext
  private readonly sessions = new Set<Session>()
  /** Authenticated sessions per user on this node (`limits.maxPerUser`). */
  private readonly perUser = new Map<UserId, number>()
  private readonly limits: ConnectionLimits
  private readonly sweep: BackpressureSweep
  private readonly runFork: ReturnType<typeof Runtime.runFork<never>>
  private deadlines: ReturnType<typeof setInterval> | undefined

  constructor(private readonly deps: GatewayDeps) {
    const { options, subscriptions } = deps
    this.runFork = Runtime.runFork(deps.runtime)
    const clock = Runtime.runSync(deps.runtime)(Effect.clock)
    const logError = (message: string, cause: unknown) => void this.runFork(Effect.logError(message, cause))
    this.limits = new ConnectionLimits(options.limits, (message) => void this.runFork(Effect.logWarning(message)))
    this.sweep = new BackpressureSweep(
      options.backpressureSweepMs,
      () => subscriptions.publishedCount(),
      (error) => logError("ws backpressure check failed", error)
    )
    this.ctx = {
      options,
      admission: {
        bucket: { rate: options.rateLimit, burst: options.rateBurst },
        floodCloseAfter: options.floodCloseAfter,
        floodWindowMs: options.floodWindowMs
      },
      chat: deps.chat,
      hub: deps.hub,
      tokens: deps.tokens,
      revoked: deps.revocations.reasonFor,
      subscriptions,
      replies: new ReplyBatcher(),
      decode: makeFrameDecoder(options),
      readRef: makeRefReader(options),
      runFork: (effect) => void this.runFork(effect),
      now: () => clock.unsafeCurrentTimeMillis(),
      logError,
      watch: (session) => this.sweep.watch(session),
      unwatch: (session) => this.sweep.unwatch(session),
      userSlotFree: (userId) => (this.perUser.get(userId) ?? 0) < (options.limits.maxPerUser ?? Infinity),
      onAuthenticated: (session) => {
        const origin = session.origin
        if (!this.sessions.has(session)) return
        if (session.userId !== undefined) this.countUser(session.userId)
        if (!origin.unauthenticated) return
        origin.unauthenticated = false
        this.limits.authenticated(origin.ip)
      }
    }
  }

  /** The per-address (or, with its token's `userId`, per-user) limit an upgrade from `ip` would break (logged, rate limited), or undefined. */
  admit(ip: string, authenticated: boolean, userId?: UserId): LimitKind | undefined {
    const now = this.ctx.now()
    const over = this.limits.check(ip, authenticated, now)
    if (over !== undefined || userId === undefined || this.ctx.userSlotFree(userId)) return over
    this.limits.noteRefusal(ip, "connections_per_user", now)
    return "connections_per_user"
  }

  /** A socket opened (authenticated when `claims` came with its upgrade); it is greeted with `hello`. */
  open(socket: SessionSocket, origin: Origin, claims: TokenClaims | undefined): Session {
    origin.unauthenticated = claims === undefined
    this.limits.opened(origin.ip, claims !== undefined)
    const session = new Session(this.ctx, socket, claims, origin)
    this.sessions.add(session)
    // A session authenticated at upgrade (its constructor ran before it was in `sessions`) counts for its user here.
    if (claims !== undefined) this.countUser(claims.userId)
    const { engine, maxFrameBytes, nodeId } = this.deps.options
    const userId: { userId?: UserId } = claims === undefined ? {} : { userId: claims.userId }
    session.send({ type: "hello", nodeId, engine, ...userId, maxFrameBytes })
    this.startDeadlines()
    return session
  }

  /**
   * One timer for every session's authentication deadline and token expiry
   * (instead of one or two per socket): each session is looked at once per
   * round, so a deadline is kept to within one round.
   */
  private startDeadlines() {
    if (this.deadlines !== undefined) return
    const roundMs = Math.min(1000, Math.max(50, this.deps.options.authTimeoutMs / 4))
    this.deadlines = setInterval(() => {
      const now = this.ctx.now()
      for (const session of Array.from(this.sessions)) session.guard(() => session.tick(now))
      if (this.sessions.size === 0) this.stopDeadlines()
    }, roundMs)
    this.deadlines.unref?.()
  }

  private stopDeadlines() {
    if (this.deadlines !== undefined) clearInterval(this.deadlines)
    this.deadlines = undefined
  }

  private countUser(userId: UserId) {
    this.perUser.set(userId, (this.perUser.get(userId) ?? 0) + 1)
  }

  close(session: Session) {
    if (!this.sessions.delete(session)) return
    this.limits.closed(session.origin.ip, !session.origin.unauthenticated)
    const userId = session.userId
    if (userId !== undefined) {
      const left = (this.perUser.get(userId) ?? 1) - 1
      if (left > 0) this.perUser.set(userId, left)
      else this.perUser.delete(userId)
    }
    session.onClose()
  }

  /**
   * Closes, with an error frame and 4003, every socket whose session or
   * account was just ended. One pass over this edge's sessions per poll that
   * ended something (rare), instead of a per-session index every socket would pay for.
   */
  endRevoked(ended: Ended) {
    for (const session of this.sessions) {
      session.guard(() => {
        if (session.userId === undefined) return
        if (ended.users.has(session.userId)) session.revoke("account_disabled")
        else if (session.sessionId !== undefined && ended.sessions.has(session.sessionId)) session.revoke("session_revoked")
      })
    }
  }

  /** Closes every open socket with `code` (shutdown: 1001, going away). */
  closeAll(code: number, reason: string) {
    for (const session of Array.from(this.sessions)) session.end(code, reason)
    this.sweep.stop()
    this.stopDeadlines()
  }

  /** Logs a failure in an adapter callback (never thrown back into uWS). */
  logError(message: string, cause: unknown) {
    this.ctx.logError(message, cause)
  }
}
