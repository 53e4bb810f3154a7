/**
 * What every session of one gateway shares: its options, the chat services,
 * the edge's subscription index, the reply batcher and the hooks into the
 * adapter (backpressure sweep, per-IP accounting, logging).
 */
import type { Effect } from "effect"
import type { ChatService } from "../api/ChatService.ts"
import type { SessionId, UserId } from "../../domain/Ids.ts"
import type { RevokedReason } from "../auth/Revocations.ts"
import type { TokenVerifier } from "../auth/TokenVerifier.ts"
import type { ChannelHub } from "../messaging/ChannelHub.ts"
import type { AdmissionOptions } from "./Admission.ts"
import type { Decoded, FrameDecoderOptions } from "./FrameDecoder.ts"
import type { ReplyBatcher } from "./ReplyBatcher.ts"
import type { Session } from "./Session.ts"
import type { Subscriptions } from "./Subscriptions.ts"

/** The socket operations a session uses; uWS's `WebSocket` in production, a fake in unit tests. */
export interface SessionSocket {
  readonly send: (text: string) => void
  readonly cork: (f: () => void) => void
  readonly end: (code: number, reason: string) => void
  /** Drops the connection at once, without a close frame. */
  readonly close: () => void
  readonly subscribe: (topic: string) => void
  readonly unsubscribe: (topic: string) => void
  readonly bufferedAmount: () => number
}

export interface SessionOptions extends FrameDecoderOptions {
  readonly maxBackpressureBytes: number
  /** How long a slow consumer may take to drain its backlog before the connection is dropped. */
  readonly drainTimeoutMs: number
  /** Channels one socket may follow or be attaching to at once. */
  readonly maxSubscriptions: number
  readonly authTimeoutMs: number
  /** How long before its token expires a socket is sent `token_expiring`. */
  readonly expiryWarningMs: number
  readonly rateLimit: number
  readonly rateBurst: number
  readonly floodCloseAfter: number
  readonly floodWindowMs: number
}

export interface GatewayContext {
  readonly options: SessionOptions
  /** The sessions' admission settings, built once from `options`. */
  readonly admission: AdmissionOptions
  readonly chat: ChatService["Type"]
  readonly hub: ChannelHub["Type"]
  readonly tokens: TokenVerifier["Type"]
  /** Why this user's session is refused now (ended, or the account disabled), or undefined: an in-memory lookup. */
  readonly revoked: (userId: UserId, sessionId: SessionId | undefined) => RevokedReason | undefined
  readonly subscriptions: Subscriptions
  readonly replies: ReplyBatcher
  readonly decode: (data: ArrayBuffer, isBinary: boolean) => Decoded
  /** The valid `ref` of a frame, without decoding it (a frame refused by the rate limit). */
  readonly readRef: (data: ArrayBuffer, isBinary: boolean) => string | undefined
  readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => void
  /** Milliseconds from the runtime's `Clock`. */
  readonly now: () => number
  readonly logError: (message: string, cause: unknown) => void
  /** Adds a session with subscriptions to the backpressure sweep (live messages bypass the session). */
  readonly watch: (session: Session) => void
  readonly unwatch: (session: Session) => void
  /** Whether one more socket of `userId` may authenticate on this node (`PLEXI_WS_MAX_CONNECTIONS_PER_USER`). */
  readonly userSlotFree: (userId: UserId) => boolean
  /** The session just authenticated (per-IP accounting of unauthenticated sockets, per-user count). */
  readonly onAuthenticated: (session: Session) => void
}
