/**
 * The public typed RPC contract (`/rpc`). Programs build a client from this
 * group (see `plexichat/client`); every RPC needs a bearer token in the
 * `authorization` header and fails with `Unauthorized` otherwise.
 *
 * Over HTTP (`POST /rpc`, NDJSON), a body the server cannot take never
 * reaches an RPC: a malformed call (bad id, unknown tag, a payload the RPC's
 * schema refuses, a line that is not JSON or lacks its newline, nesting past
 * `PLEXI_HTTP_MAX_JSON_DEPTH`) answers 400 `InvalidRequest`, another method
 * 405 `MethodNotAllowed`, an oversized body 413 `PayloadTooLarge`
 * (`domain/HttpErrors.ts`; README "HTTP errors").
 */
import { Rpc, RpcGroup, RpcMiddleware } from "@effect/rpc"
import { Context, Schema } from "effect"
import { AuditEntry, AuditHead, AuditQuery } from "./Audit.ts"
import { Channel, ChannelName, ChannelSettings, ClientMsgId, HistoryLimit, Message, MessageBody, Role, Visibility } from "./Channel.ts"
import {
  ChannelAlreadyExists,
  ChannelNotFound,
  ChannelUnavailable,
  Forbidden,
  InvalidRequest,
  NotAMember,
  RateLimited,
  ServiceUnavailable,
  Unauthorized
} from "./Errors.ts"
import { ChannelId, Seq, SessionId, UserId } from "./Ids.ts"
import { User } from "./User.ts"

/**
 * The authenticated caller of an RPC or REST request; `sessionId` is the
 * signed-in session its access token names.
 */
export class CurrentUser extends Context.Tag("plexichat/CurrentUser")<
  CurrentUser,
  { readonly userId: UserId; readonly sessionId: SessionId }
>() {}

/**
 * Checks the bearer token of each RPC, applies the caller's request rate
 * limit and provides `CurrentUser`.
 */
export class RpcAuthentication extends RpcMiddleware.Tag<RpcAuthentication>()("plexichat/RpcAuthentication", {
  provides: CurrentUser,
  failure: Schema.Union(Unauthorized, RateLimited)
}) {}

const ChannelFailure = Schema.Union(ChannelNotFound, ChannelUnavailable)

/** Creates a channel owned by the caller. `Forbidden` for a workspace guest. */
export const CreateChannel = Rpc.make("CreateChannel", {
  payload: Schema.Struct({ name: ChannelName, visibility: Schema.optionalWith(Visibility, { default: () => "public" as const }) }),
  success: Channel,
  error: Schema.Union(ChannelAlreadyExists, ChannelUnavailable, ServiceUnavailable, Forbidden)
})

/**
 * Joins a public channel. Fails with `Forbidden` for a private one, and with
 * `RateLimited` past the caller's cluster-wide join budget.
 */
export const JoinChannel = Rpc.make("JoinChannel", {
  payload: { channelId: ChannelId },
  success: Channel,
  error: Schema.Union(ChannelFailure, Forbidden, RateLimited)
})

/** Adds a user to a channel; the caller must be its owner or an admin. */
export const AddMember = Rpc.make("AddMember", {
  payload: Schema.Struct({
    channelId: ChannelId,
    userId: UserId,
    role: Schema.optionalWith(Role, { default: () => "member" as const })
  }),
  success: Channel,
  error: Schema.Union(ChannelFailure, Forbidden, NotAMember)
})

/**
 * Removes a member from a channel (a kick). Channel owners remove anyone but
 * the last owner, channel admins plain members; in a public channel workspace
 * owners and admins act as channel admins and workspace moderators remove
 * plain members. `NotAMember` when `userId` is not in the channel (a retry of
 * a removal that went through) or the caller, without powers, is not either;
 * `Forbidden` when the caller's powers do not reach; `ChannelNotFound` for a
 * private channel the caller is not in. The removed user's live feeds stop
 * on every node when they may no longer read the channel.
 */
export const RemoveMember = Rpc.make("RemoveMember", {
  payload: { channelId: ChannelId, userId: UserId },
  success: Channel,
  error: Schema.Union(ChannelFailure, Forbidden, NotAMember)
})

/**
 * "Manage channel": renames the channel and/or changes its visibility (each
 * optional; an absent one stays); the caller must be its owner or an admin
 * (in a public channel, a workspace owner or admin). A name follows the rules
 * of `CreateChannel` (names need not be unique). Made private, the channel is
 * at once invisible to non-members, whose live feeds stop. `Forbidden` for a
 * plain member, `NotAMember` for a non-member of a public channel without
 * powers, `ChannelNotFound` for a private channel the caller is not in.
 */
export const UpdateChannel = Rpc.make("UpdateChannel", {
  payload: Schema.Struct({ channelId: ChannelId, ...ChannelSettings.fields }),
  success: Channel,
  error: Schema.Union(ChannelFailure, Forbidden, NotAMember)
})

/** Leaves a channel. Fails with `Forbidden` for its last owner while other members remain. */
export const LeaveChannel = Rpc.make("LeaveChannel", {
  payload: { channelId: ChannelId },
  success: Channel,
  error: Schema.Union(ChannelFailure, NotAMember, Forbidden)
})

/**
 * Posts a message; retrying with the same `clientMsgId` returns the original
 * message. `RateLimited` past the caller's cluster-wide post budget (shared
 * with WebSocket and REST posts).
 */
export const PostMessage = Rpc.make("PostMessage", {
  payload: { channelId: ChannelId, clientMsgId: ClientMsgId, body: MessageBody },
  success: Message,
  error: Schema.Union(ChannelFailure, NotAMember, RateLimited, InvalidRequest)
})

/** Up to `limit` messages with `seq > afterSeq`, oldest first. */
export const History = Rpc.make("History", {
  payload: Schema.Struct({
    channelId: ChannelId,
    afterSeq: Schema.optionalWith(Seq, { default: () => 0 }),
    limit: Schema.optionalWith(HistoryLimit, { default: () => 100 })
  }),
  success: Schema.Array(Message),
  error: Schema.Union(ChannelFailure, NotAMember)
})

/**
 * Follows a channel: the messages after `afterSeq` (when given), then live
 * messages, in seq order with no gap and no duplicate. The stream ends with
 * `ChannelUnavailable` only when the channel cannot be followed any more.
 */
export const Subscribe = Rpc.make("Subscribe", {
  payload: { channelId: ChannelId, afterSeq: Schema.optional(Seq) },
  success: Message,
  error: Schema.Union(ChannelFailure, NotAMember),
  stream: true
})

/** The caller's profile and channels. */
export const Me = Rpc.make("Me", { payload: {}, success: User, error: ServiceUnavailable })

/**
 * Audit entries by actor, action and time, oldest first (as
 * `GET /api/v1/admin/audit`). Workspace owners and admins only: anyone else
 * gets `Forbidden`, and the refusal is audited.
 */
export const QueryAudit = Rpc.make("QueryAudit", {
  payload: AuditQuery,
  success: Schema.Array(AuditEntry),
  error: Schema.Union(Forbidden, ServiceUnavailable)
})

/**
 * The newest audit entry's seq, hash and time (as `GET /api/v1/admin/audit/head`), to
 * anchor the chain outside the database. Owners and admins only, as `QueryAudit`.
 */
export const GetAuditHead = Rpc.make("GetAuditHead", {
  payload: {},
  success: AuditHead,
  error: Schema.Union(Forbidden, ServiceUnavailable)
})

export class ChatRpcs extends RpcGroup.make(
  CreateChannel,
  JoinChannel,
  AddMember,
  RemoveMember,
  UpdateChannel,
  LeaveChannel,
  PostMessage,
  History,
  Subscribe,
  Me,
  QueryAudit,
  GetAuditHead
).middleware(RpcAuthentication) {}
