/**
 * The WebSocket wire protocol (`/ws`), frame by frame; docs/PROTOCOL.md is
 * the prose version. Every frame is a JSON text message with a `type`.
 * Requests may carry a client-chosen `ref`, echoed in the reply or error.
 */
import { Schema } from "effect"
import { ClientMsgId, HistoryLimit, MessageBody } from "./Channel.ts"
import { ChannelId, Seq } from "./Ids.ts"

const Ref = Schema.optional(Schema.String.pipe(Schema.maxLength(64)))

const frame = <const T extends string, Fields extends Schema.Struct.Fields>(type: T, fields: Fields) =>
  Schema.Struct({ type: Schema.Literal(type), ...fields })

export const AuthFrame = frame("auth", { token: Schema.String, ref: Ref })
export const SubscribeFrame = frame("subscribe", { channelId: ChannelId, lastSeq: Schema.optional(Seq), ref: Ref })
export const UnsubscribeFrame = frame("unsubscribe", { channelId: ChannelId, ref: Ref })
export const PostFrame = frame("post", {
  channelId: ChannelId,
  clientMsgId: ClientMsgId,
  body: MessageBody,
  ref: Ref
})
export const HistoryFrame = frame("history", {
  channelId: ChannelId,
  afterSeq: Schema.optionalWith(Seq, { default: () => 0 }),
  limit: Schema.optionalWith(HistoryLimit, { default: () => 100 }),
  ref: Ref
})
export const PingFrame = frame("ping", { ref: Ref })

/** Frames a client may send. */
export const ClientFrame = Schema.Union(AuthFrame, SubscribeFrame, UnsubscribeFrame, PostFrame, HistoryFrame, PingFrame)
export type ClientFrame = typeof ClientFrame.Type

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
  "channel_not_found",
  "forbidden",
  "channel_unavailable",
  "internal"
)
export type ErrorCode = typeof ErrorCode.Type

/** WebSocket close codes the server uses. */
export const CloseCode = {
  /** The client could not keep up: its send buffer passed `PLEXI_WS_MAX_BACKPRESSURE_BYTES`. */
  slowConsumer: 4008,
  /** The client kept flooding after being told it was rate limited. */
  flood: 4029,
  /** The server is shutting down; reconnect to another node and resume. */
  goingAway: 1001
} as const
