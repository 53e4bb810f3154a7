/**
 * The WebSocket wire protocol (`/ws`), frame by frame; docs/PROTOCOL.md is
 * the prose version, and test/unit/ProtocolDoc.test.ts checks that it lists
 * every frame below with the same fields. Every frame is a JSON text message
 * with a `type`. Requests may carry a client-chosen `ref`, echoed in the
 * reply or error (only when it is a valid ref: a string of at most 64
 * characters).
 */
import { Schema } from "effect"
import { Channel, ChannelSettings, ClientMsgId, HistoryLimit, Message, MessageBody } from "./Channel.ts"
import { ChannelId, MessageId, Seq, UserId } from "./Ids.ts"

/** A client-chosen correlation id; a ref that breaks this rule is never echoed. */
export const refMaxLength = 64
export const Ref = Schema.String.pipe(Schema.maxLength(refMaxLength))
const OptionalRef = Schema.optional(Ref)

/** `Ref`'s rule checked by hand (the gateway reads the ref of every frame, valid or not). */
export const isRef = (v: unknown): v is typeof Ref.Type => typeof v === "string" && v.length <= refMaxLength

const frame = <const T extends string, Fields extends Schema.Struct.Fields>(type: T, fields: Fields) =>
  Schema.Struct({ type: Schema.Literal(type), ...fields })

// ---- Client frames -------------------------------------------------------

export const AuthFrame = frame("auth", { token: Schema.String, ref: OptionalRef })
export const SubscribeFrame = frame("subscribe", { channelId: ChannelId, lastSeq: Schema.optional(Seq), ref: OptionalRef })
export const UnsubscribeFrame = frame("unsubscribe", { channelId: ChannelId, ref: OptionalRef })
export const PostFrame = frame("post", { channelId: ChannelId, clientMsgId: ClientMsgId, body: MessageBody, ref: OptionalRef })
export const HistoryFrame = frame("history", {
  channelId: ChannelId,
  afterSeq: Schema.optionalWith(Seq, { default: () => 0 }),
  limit: Schema.optionalWith(HistoryLimit, { default: () => 100 }),
  ref: OptionalRef
})
export const PingFrame = frame("ping", { ref: OptionalRef })
/** Removes a member from a channel (a kick); answered with the `channel` as it is now. */
export const RemoveMemberFrame = frame("remove_member", { channelId: ChannelId, userId: UserId, ref: OptionalRef })
/** Renames a channel and/or changes its visibility (`ChannelSettings`); answered with the `channel`. */
export const UpdateChannelFrame = frame("update_channel", { channelId: ChannelId, ...ChannelSettings.fields, ref: OptionalRef })

/** Frames a client may send. */
export const ClientFrame = Schema.Union(
  AuthFrame,
  SubscribeFrame,
  UnsubscribeFrame,
  PostFrame,
  HistoryFrame,
  PingFrame,
  RemoveMemberFrame,
  UpdateChannelFrame
)
export type ClientFrame = typeof ClientFrame.Type

// ---- Error codes and close codes ------------------------------------------

/** Error codes of `{"type":"error"}` frames. */
export const ErrorCode = Schema.Literal(
  "bad_json",
  "unknown_type",
  "invalid_frame",
  "frame_too_large",
  "binary_not_supported",
  "unauthorized",
  "rate_limited",
  "not_a_member",
  "not_subscribed",
  "too_many_subscriptions",
  "too_many_connections",
  "channel_not_found",
  "channel_already_exists",
  "forbidden",
  "channel_unavailable",
  "internal"
)
export type ErrorCode = typeof ErrorCode.Type

/** WebSocket close codes the server uses (see docs/PROTOCOL.md#close-codes). */
export const CloseCode = {
  /** The token the socket authenticated with expired and no fresh `auth` frame came before. */
  tokenExpired: 4001,
  /** The socket did not authenticate within `PLEXI_WS_AUTH_TIMEOUT`. */
  authTimeout: 4002,
  /** The client could not keep up: its send buffer passed `PLEXI_WS_MAX_BACKPRESSURE_BYTES`. */
  slowConsumer: 4008,
  /** The client kept flooding after being told it was rate limited. */
  flood: 4029,
  /** The socket's session was ended (sign-out, revoked, password changed or reset) or its account disabled. */
  revoked: 4003,
  /**
   * The node is draining (graceful stop): reconnect to another node (not this one) and resubscribe with `lastSeq`.
   * The close reason is `drainingCloseReason`.
   */
  goingAway: 1001,
  /** A text frame that is not valid UTF-8 (RFC 6455 §8.1); native uWS drops the TCP connection instead (1006). */
  invalidPayload: 1007
} as const

/** The reason of a 1001 close from a draining node; clients may match it to skip this node's address for a while. */
export const drainingCloseReason = "node draining; reconnect to another node"

/** Why the server ended a subscription or answered `unauthorized` without a request. */
export const Reason = Schema.Literal("not_a_member", "token_expired", "session_revoked", "account_disabled")

// ---- Server frames --------------------------------------------------------

export const HelloFrame = frame("hello", {
  nodeId: Schema.String,
  engine: Schema.Literal("uws-native", "ws-fallback"),
  userId: Schema.optional(UserId),
  maxFrameBytes: Schema.Int
})
export const AuthenticatedFrame = frame("authenticated", { userId: UserId, expiresAt: Schema.Number, ref: OptionalRef })
export const SubscribedFrame = frame("subscribed", { channelId: ChannelId, head: Seq, ref: OptionalRef })
export const UnsubscribedFrame = frame("unsubscribed", {
  channelId: ChannelId,
  reason: Schema.optional(Schema.Literal("not_a_member")),
  ref: OptionalRef
})
export const MessageFrame = frame("message", { message: Message })
export const AckFrame = frame("ack", {
  channelId: ChannelId,
  clientMsgId: Schema.String,
  id: MessageId,
  seq: Seq,
  createdAt: Schema.Number,
  ref: OptionalRef
})
export const HistoryReplyFrame = frame("history", { channelId: ChannelId, messages: Schema.Array(Message), ref: OptionalRef })
export const PongFrame = frame("pong", { ref: OptionalRef })
/** The channel and its members, after a `remove_member` or `update_channel`. */
export const ChannelFrame = frame("channel", { channel: Channel, ref: OptionalRef })
/** The socket's token expires at `expiresAt` (sent `PLEXI_WS_TOKEN_EXPIRY_WARNING` before): send a fresh `auth` frame. */
export const TokenExpiringFrame = frame("token_expiring", { expiresAt: Schema.Number })
/**
 * A refused or failed request. `message` is a sentence for people; the other
 * fields are for programs and present when they apply.
 */
export const ErrorFrame = frame("error", {
  code: ErrorCode,
  message: Schema.String,
  ref: OptionalRef,
  channelId: Schema.optional(ChannelId),
  userId: Schema.optional(UserId),
  reason: Schema.optional(Schema.String),
  retryAfterMs: Schema.optional(Schema.Int)
})

/** Frames the server sends. */
export const ServerFrame = Schema.Union(
  HelloFrame,
  AuthenticatedFrame,
  SubscribedFrame,
  UnsubscribedFrame,
  MessageFrame,
  AckFrame,
  HistoryReplyFrame,
  PongFrame,
  ChannelFrame,
  TokenExpiringFrame,
  ErrorFrame
)
export type ServerFrame = typeof ServerFrame.Type
export type ErrorFrame = typeof ErrorFrame.Type
