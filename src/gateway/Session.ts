/**
 * One WebSocket session, free of uWS: frame admission and decoding, frame
 * routing, authentication (deadline and token expiry), the slow-consumer
 * close, and the session's replies. The uWS adapter (runtime/edge/WsGateway.ts)
 * only forwards events; tests drive a session with a fake socket.
 */
import { Effect } from "effect"
import type { DomainError } from "../../domain/Errors.ts"
import { Unauthorized } from "../../domain/Errors.ts"
import type { ChannelId, SessionId, UserId } from "../../domain/Ids.ts"
import { type ClientFrame, CloseCode, type ErrorCode } from "../../domain/Protocol.ts"
import type { RevokedReason } from "../auth/Revocations.ts"
import type { TokenClaims } from "../auth/TokenVerifier.ts"
import { admit, type AdmissionState } from "./Admission.ts"
import { answerRequest, submitPost, withRef } from "./ChannelRequests.ts"
import { domainErrorFrame, protocolErrorFrame, revokedFrames, tokenExpiredFrame } from "./ErrorFrames.ts"
import type { GatewayContext, SessionSocket } from "./GatewayContext.ts"
import { encodeFrame, type ServerFrame, topicOf } from "./ServerFrames.ts"
import { dropSubscription, subscribe } from "./SessionSubscribe.ts"
import { errors, framesIn, framesOut, rateLimited } from "../observability/ChatMetrics.ts"

/**
 * Per-socket state is kept small (an idle socket costs a few hundred bytes):
 * no closures or timers per session; the gateway's deadline sweep calls
 * `tick` for the authentication deadline and token expiry.
 */
export class Session implements AdmissionState {
  userId: UserId | undefined
  /** The signed-in session of the token the socket last authenticated with (a dev token has none). */
  sessionId: SessionId | undefined
  /** No more writes: closed, or a slow consumer waiting for its backlog to drain before its close frame. */
  closed = false
  /** When the slow consumer's drain began (its hard close comes `drainTimeoutMs` later), or undefined. */
  private drainingSince: number | undefined
  private expiresAt: number | undefined
  /** Whether `token_expiring` was sent for the current `expiresAt`. */
  private warned = false
  private readonly openedAt: number
  // AdmissionState: the token bucket and flood counters.
  tokens: number
  refilledAt: number
  refused = 0
  refusedSince = 0
  lastAnsweredAt = Number.NEGATIVE_INFINITY

  constructor(
    readonly ctx: GatewayContext,
    readonly socket: SessionSocket,
    claims?: TokenClaims,
    /** Where the socket comes from (the gateway's per-address accounting). */
    readonly origin: { readonly ip: string; readonly address?: string; unauthenticated: boolean } = { ip: "", unauthenticated: claims === undefined }
  ) {
    this.openedAt = ctx.now()
    this.tokens = ctx.admission.bucket.burst
    this.refilledAt = this.openedAt
    ctx.subscriptions.open(this)
    if (claims !== undefined) this.authenticate(claims)
  }

  writable() {
    return !this.closed
  }

  /** Ends this session's live feed of `channelId` (its user may no longer read it). */
  expel(channelId: ChannelId) {
    // Only subscriptions that are following: an attach in progress is stopped by the hub (not_a_member).
    if (this.ctx.subscriptions.get(this, channelId)?.release === undefined) return
    dropSubscription(this, channelId)
    this.send({ type: "unsubscribed", channelId, reason: "not_a_member" })
  }

  /** Called by the gateway's deadline sweep: the authentication deadline and the token's expiry. */
  tick(now: number) {
    if (this.drainingSince !== undefined) {
      // A slow consumer that never reads would hold its backlog forever: cut it (the client sees 1006).
      if (now - this.drainingSince >= this.ctx.options.drainTimeoutMs) this.hardClose()
      return
    }
    if (this.closed) return
    if (this.userId === undefined) {
      if (now - this.openedAt >= this.ctx.options.authTimeoutMs) this.end(CloseCode.authTimeout, "authentication timeout")
    } else if (this.expiresAt !== undefined) {
      if (now >= this.expiresAt) return this.expire()
      if (!this.warned && now >= this.expiresAt - this.ctx.options.expiryWarningMs) {
        this.warned = true
        this.send({ type: "token_expiring", expiresAt: this.expiresAt })
      }
    }
  }

  /** Runs `f`; an unexpected exception is logged and never leaves a uWS callback. */
  guard(f: () => void, ref?: string) {
    try {
      f()
    } catch (error) {
      this.ctx.logError("ws handler failed", error)
      try {
        this.sendError("internal", "internal error; it was logged on the server", ref)
      } catch {
        // The socket is gone; nothing left to tell.
      }
    }
  }

  write(frames: ReadonlyArray<string>) {
    if (this.closed) return
    try {
      this.socket.cork(() => {
        for (const frame of frames) this.socket.send(frame)
      })
      this.checkBackpressure()
    } catch (error) {
      // A socket that cannot be written to is gone; never answer a failed write with another write.
      this.closed = true
      this.ctx.logError("ws write failed", error)
    }
  }

  /** Queues a reply for the end of this turn. */
  send(frame: ServerFrame) {
    if (this.closed) return
    framesOut[frame.type].update(1)
    this.ctx.replies.push(this, encodeFrame(frame))
  }

  sendError(code: ErrorCode, message: string, ref: string | undefined, fields?: Parameters<typeof protocolErrorFrame>[3]) {
    errors.ws(code).update(1)
    this.send(protocolErrorFrame(code, message, ref, fields))
  }

  sendFailure(error: DomainError, ref: string | undefined) {
    errors.ws(error._tag).update(1)
    this.send(domainErrorFrame(error, ref))
  }

  /** Ends the socket with a close frame; no more writes. */
  end(code: number, reason: string) {
    if (this.closed) return
    this.closed = true
    this.socket.end(code, reason)
  }

  /** Runs a request's effect; a typed failure becomes an error frame, a defect an `internal` one. */
  run<E extends DomainError>(ref: string | undefined, effect: Effect.Effect<void, E>) {
    this.ctx.runFork(effect.pipe(
      Effect.catchAll((error) => Effect.sync(() => this.sendFailure(error, ref))),
      Effect.catchAllDefect((defect) =>
        Effect.sync(() => {
          this.ctx.logError("ws request died", defect)
          this.sendError("internal", "internal error; it was logged on the server", ref)
        })
      )
    ))
  }

  onMessage(data: ArrayBuffer, isBinary: boolean) {
    if (this.closed) return
    const verdict = admit(this, this.ctx.admission, this.ctx.now())
    if (verdict._tag === "Flood") return this.end(CloseCode.flood, "rate limit exceeded")
    if (verdict._tag === "Refused") return this.refuse(data, isBinary, verdict.retryAfterMs, verdict.answer)
    const decoded = this.ctx.decode(data, isBinary)
    if (decoded._tag !== "Frame") framesIn.invalid.update(1)
    if (decoded._tag === "InvalidUtf8") return this.end(CloseCode.invalidPayload, "invalid UTF-8")
    if (decoded._tag === "Refused") return this.sendError(decoded.code, decoded.message, decoded.ref)
    framesIn[decoded.frame.type].update(1)
    this.guard(() => this.handle(decoded.frame), decoded.frame.ref)
  }

  /** A frame refused by the rate limit: answered with its ref when it had one, else at most every 100 ms. */
  private refuse(data: ArrayBuffer, isBinary: boolean, retryAfterMs: number, answer: boolean) {
    framesIn.rate_limited.update(1)
    rateLimited.ws_frames.update(1)
    const ref = this.ctx.readRef(data, isBinary)
    if (ref === undefined && !answer) return
    this.sendError("rate_limited", `too many frames; this one was dropped, retry in ${retryAfterMs} ms`, ref, { retryAfterMs })
  }

  private handle(frame: ClientFrame) {
    const ref = frame.ref
    if (frame.type === "ping") return this.send(withRef({ type: "pong" as const }, ref))
    if (frame.type === "auth") return this.onAuth(frame.token, ref)
    const userId = this.userId
    if (userId === undefined) return this.sendError("unauthorized", "send an auth frame first", ref)
    switch (frame.type) {
      case "subscribe":
        return subscribe(this, userId, frame.channelId, frame.lastSeq, ref)
      case "unsubscribe": {
        // Also cancels a subscribe still in progress.
        if (!dropSubscription(this, frame.channelId)) {
          return this.sendError("not_subscribed", `not subscribed to channel ${frame.channelId}`, ref, { channelId: frame.channelId })
        }
        return this.send(withRef({ type: "unsubscribed" as const, channelId: frame.channelId }, ref))
      }
      case "post":
        return submitPost(this, userId, frame)
      case "history":
      case "remove_member":
      case "update_channel":
        return answerRequest(this, userId, frame)
    }
  }

  private onAuth(token: string, ref: string | undefined) {
    this.run(ref, Effect.flatMap(this.ctx.tokens.verifyClaims(token), (claims) => {
      // A socket is one user's: a fresh token for the same user is fine, another user needs another socket.
      if (this.userId !== undefined && this.userId !== claims.userId) {
        return Effect.fail(new Unauthorized({ message: `this connection is authenticated as ${this.userId}` }))
      }
      if (this.closed) return Effect.void
      if (this.userId === undefined && !this.ctx.userSlotFree(claims.userId)) {
        // The socket stays open and unauthenticated (its authentication deadline still runs).
        this.sendError("too_many_connections", "too many WebSocket connections of this user on this node; close one first", ref)
        return Effect.void
      }
      if (!this.authenticate(claims)) return Effect.void
      this.send(withRef({ type: "authenticated" as const, userId: claims.userId, expiresAt: claims.expiresAt }, ref))
      return Effect.void
    }))
  }

  /** Takes the token's claims; false (and the socket closed, 4003) when its session or account ended meanwhile. */
  private authenticate(claims: TokenClaims): boolean {
    if (this.userId === undefined) {
      this.userId = claims.userId
      this.ctx.subscriptions.setUser(this, claims.userId)
      this.ctx.onAuthenticated(this)
    }
    this.sessionId = claims.sessionId
    this.expiresAt = claims.expiresAt
    this.warned = false
    // The token was checked before an await (its signature); a revocation applied since then is caught here.
    const revoked = this.ctx.revoked(claims.userId, claims.sessionId)
    if (revoked === undefined) return true
    this.revoke(revoked)
    return false
  }

  /** The socket's session ended or its account was disabled: an error frame, then close 4003. */
  revoke(reason: RevokedReason) {
    if (this.closed) return
    framesOut.error.update(1)
    this.write([revokedFrames[reason]])
    this.end(CloseCode.revoked, reason === "account_disabled" ? "account disabled" : "session revoked")
  }

  private expire() {
    // Written at once, ahead of the close frame (a queued reply would come after it).
    framesOut.error.update(1)
    this.write([tokenExpiredFrame])
    this.end(CloseCode.tokenExpired, "token expired")
  }

  /** Past `maxBackpressureBytes`: stop writing, drop the feeds, and close once the backlog has drained. */
  checkBackpressure() {
    if (this.closed || this.socket.bufferedAmount() <= this.ctx.options.maxBackpressureBytes) return
    this.closed = true
    this.drainingSince = this.ctx.now()
    for (const channelId of this.release()) this.socket.unsubscribe(topicOf(channelId))
    this.onDrain()
  }

  /**
   * uWS calls this as the send buffer drains. The slow consumer's close frame
   * is sent only once its backlog is (nearly) gone: sent behind the backlog,
   * uWS would cut the connection (1006) when the client stalls for longer
   * than its close timeout (16 s at the default idle timeout).
   */
  onDrain() {
    if (this.drainingSince === undefined || this.socket.bufferedAmount() > DRAINED_BYTES) return
    this.drainingSince = undefined
    this.socket.end(CloseCode.slowConsumer, "slow consumer")
  }

  /** Forgets every subscription and timer (the socket may stay open, draining); returns the channels it followed. */
  private release(): Array<ChannelId> {
    this.ctx.replies.forget(this)
    this.ctx.unwatch(this)
    const subs = this.ctx.subscriptions.close(this)
    for (const [, sub] of subs) sub.release?.()
    return subs.map(([channelId]) => channelId)
  }

  /** Drops the connection without a close frame (a slow consumer past its drain timeout). */
  private hardClose() {
    this.drainingSince = undefined
    this.socket.close()
  }

  onClose() {
    this.closed = true
    this.drainingSince = undefined
    // A pending attach sees the socket closed, stops its catch-up and releases its own reference.
    this.release()
  }
}

/** A slow consumer's backlog counts as drained below this. */
const DRAINED_BYTES = 16 * 1024
