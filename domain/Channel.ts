/**
 * The Channel aggregate: schemas and the sharded entity protocol.
 *
 * A Channel entity owns the ordering of its messages: it assigns the
 * gap-free `seq`, commits messages to Postgres through the group-commit
 * writer, and publishes them to the edges that follow it.
 */
import { Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { Schema } from "effect"
import { ChannelAlreadyExists, ChannelNotFound, ChannelUnavailable, Forbidden, InvalidRequest, NotAMember } from "./Errors.ts"
import { ChannelId, MessageId, Seq, UserId } from "./Ids.ts"
import { StorableText } from "./Text.ts"

export const Visibility = Schema.Literal("public", "private")
export type Visibility = typeof Visibility.Type

export const Role = Schema.Literal("owner", "admin", "member")
export type Role = typeof Role.Type

export const Member = Schema.Struct({ userId: UserId, role: Role })
export type Member = typeof Member.Type

export const ChannelName = StorableText.pipe(Schema.trimmed(), Schema.minLength(1), Schema.maxLength(80))

/**
 * What "manage channel" may change (`UpdateChannel`): each field is optional
 * and an absent one is left as it is. New settings (topic, description) join
 * this struct, and with it every door's payload.
 */
export const ChannelSettings = Schema.Struct({
  name: Schema.optional(ChannelName),
  visibility: Schema.optional(Visibility)
})
export type ChannelSettings = typeof ChannelSettings.Type

/**
 * The client's address as the edge saw it (REST/RPC peer, WebSocket socket),
 * recorded in the entity's audit entries; at most 64 characters (the audit
 * log's `ip` column), absent when unknown. Set by the edge, never by a client.
 */
export const ClientIp = Schema.String.pipe(Schema.maxLength(64))
const ip = Schema.optional(ClientIp)

/** A channel and its members. */
export const Channel = Schema.Struct({
  id: ChannelId,
  name: ChannelName,
  visibility: Visibility,
  createdBy: UserId,
  createdAt: Schema.Number,
  members: Schema.Array(Member)
})
export type Channel = typeof Channel.Type

/** Message bodies are non-empty text of at most 4,000 characters, without NUL or unpaired surrogates. */
export const messageBodyMaxLength = 4000
export const MessageBody = StorableText.pipe(Schema.minLength(1), Schema.maxLength(messageBodyMaxLength))

/** A client-chosen idempotency key: retrying a post with the same key never creates a second message. */
export const clientMsgIdMaxLength = 64
export const ClientMsgId = StorableText.pipe(Schema.minLength(1), Schema.maxLength(clientMsgIdMaxLength))

/**
 * A committed chat message. `createdAt` is milliseconds since the epoch; a
 * plain struct (not a class) keeps encoding cheap on the fan-out path.
 */
export const Message = Schema.Struct({
  id: MessageId,
  channelId: ChannelId,
  seq: Seq,
  authorId: UserId,
  body: Schema.String,
  clientMsgId: Schema.String,
  createdAt: Schema.Number
})
export type Message = typeof Message.Type

/** One post inside a batch sent to a Channel entity. */
export const PostItem = Schema.Struct({
  authorId: UserId,
  clientMsgId: ClientMsgId,
  body: MessageBody
})
export type PostItem = typeof PostItem.Type

/**
 * The outcome of one item of a batch: the committed message (the original
 * one for a retry) or why it was refused: `NotAMember` (the author is not in
 * the channel) or `InvalidRequest` (the store refused this item's values;
 * the other items of the batch are not affected, and a retry of the same
 * item would be refused again).
 */
export const PostOutcome = Schema.Union(
  Schema.TaggedStruct("Accepted", { message: Message, duplicate: Schema.Boolean }),
  Schema.TaggedStruct("Rejected", { error: Schema.Union(NotAMember, ChannelNotFound, InvalidRequest) })
)
export type PostOutcome = typeof PostOutcome.Type

/**
 * One element of a channel feed. `head` is the channel's last committed seq
 * once `messages` are applied, so a follower always knows where it stands,
 * even from a keep-alive chunk with no messages. `left` names members who
 * left a private channel or were removed from it (and guests removed from
 * a public one): edges stop their live feeds. `members`, on the first chunk
 * of a private channel's feed and on the chunk that tells a channel was just
 * made private, lists who may read it, so that an edge drops every other
 * reader (also those whose `left` it missed while (re)opening its feed).
 */
/** Where a chunk's messages were published in a sampled post's trace (W3C-style hex ids), so edges continue it. */
export const TraceContext = Schema.Struct({ traceId: Schema.String, spanId: Schema.String })
export type TraceContext = typeof TraceContext.Type

export const FeedChunk = Schema.Struct({
  head: Seq,
  messages: Schema.Array(Message),
  left: Schema.optional(Schema.Array(UserId)),
  members: Schema.optional(Schema.Array(UserId)),
  /** Present only on the chunk of a traced post (docs/OPERATIONS.md, "Traces"). */
  trace: Schema.optional(TraceContext)
})
export type FeedChunk = typeof FeedChunk.Type

export const HistoryLimit = Schema.Int.pipe(Schema.between(1, 1000))

/** Creates the channel with `ownerId` as its owner. Fails with `ChannelAlreadyExists`, and `Forbidden` for a workspace guest. */
export const Create = Rpc.make("Create", {
  payload: { name: ChannelName, visibility: Visibility, ownerId: UserId, ip },
  success: Channel,
  error: Schema.Union(ChannelAlreadyExists, ChannelUnavailable, Forbidden)
})

/**
 * Joins a public channel (idempotent). Private channels need `AddMember`; a
 * non-member's Join of one is `ChannelNotFound`, as for a missing channel.
 * `Forbidden` for a workspace guest.
 */
export const Join = Rpc.make("Join", {
  payload: { userId: UserId, ip },
  success: Channel,
  error: Schema.Union(ChannelNotFound, Forbidden, ChannelUnavailable)
})

/**
 * An owner or admin adds a member to the channel or sets a member's role
 * (idempotent); in a public channel, workspace owners and admins act as
 * channel admins. `Forbidden` when the actor is a plain member, when an admin
 * makes an owner or changes an owner's role, when a guest would get more than
 * `member`, and when the change would leave the channel without an owner.
 * `ChannelNotFound` for a non-member of a private channel.
 */
export const AddMember = Rpc.make("AddMember", {
  payload: { actorId: UserId, userId: UserId, role: Role, ip },
  success: Channel,
  error: Schema.Union(ChannelNotFound, Forbidden, NotAMember, ChannelUnavailable)
})

/**
 * Leaves the channel. Fails with `NotAMember` when the user was not in it,
 * and with `Forbidden` when the user is the last owner and other members
 * remain (another member must be made an owner first).
 */
export const Leave = Rpc.make("Leave", {
  payload: { userId: UserId, ip },
  success: Channel,
  error: Schema.Union(ChannelNotFound, NotAMember, Forbidden, ChannelUnavailable)
})

/**
 * Removes a member (a kick). Channel owners remove anyone, admins plain
 * members only; in a public channel workspace owners and admins act as
 * channel admins and workspace moderators may remove plain members. The last
 * owner is never removed. `NotAMember` when `userId` is not in the channel
 * (or the actor, without powers, is not either), `Forbidden` for powers that
 * do not reach, `ChannelNotFound` for a non-member of a private channel.
 * Edges stop the removed user's live feeds when they may no longer read.
 */
export const RemoveMember = Rpc.make("RemoveMember", {
  payload: { actorId: UserId, userId: UserId, ip },
  success: Channel,
  error: Schema.Union(ChannelNotFound, Forbidden, NotAMember, ChannelUnavailable)
})

/**
 * "Manage channel": a channel owner or admin (in a public channel also a
 * workspace owner or admin) renames the channel and/or changes its
 * visibility. Absent settings stay as they are; changing nothing writes
 * nothing. Made private, the channel is at once invisible to non-members
 * (edges drop their live feeds). `NotAMember` for an actor without powers who
 * is not in a public channel, `Forbidden` for a plain member,
 * `ChannelNotFound` for a non-member of a private channel.
 */
export const UpdateChannel = Rpc.make("UpdateChannel", {
  payload: { actorId: UserId, changes: ChannelSettings, ip },
  success: Channel,
  error: Schema.Union(ChannelNotFound, Forbidden, NotAMember, ChannelUnavailable)
})

/**
 * Posts a batch of messages, in order. Each item is checked for membership,
 * deduped on `(authorId, clientMsgId)`, given the next seq and committed;
 * the reply comes only after the commit. An item the store refuses is
 * `Rejected` with `InvalidRequest` and the others still commit, gap-free.
 * The whole batch fails with `ChannelUnavailable` when nothing could be
 * committed (store down, the channel moved to another owner): a retry with
 * the same clientMsgIds is safe.
 */
export const Post = Rpc.make("Post", {
  payload: { items: Schema.Array(PostItem) },
  success: Schema.Array(PostOutcome),
  error: Schema.Union(ChannelNotFound, ChannelUnavailable)
})

/**
 * Messages with `seq > afterSeq`, oldest first, at most `limit`. A private
 * channel is readable by members only (`ChannelNotFound` for anyone else); a
 * public one by anyone but a workspace guest who is not a member (`NotAMember`).
 */
export const History = Rpc.make("History", {
  payload: { readerId: UserId, afterSeq: Seq, limit: HistoryLimit, ip },
  success: Schema.Array(Message),
  error: Schema.Union(ChannelNotFound, NotAMember, ChannelUnavailable)
})

/**
 * Whether `readerId` may read the channel (as for `History`), and its
 * current head. Edges ask before they
 * let a socket follow the channel.
 */
export const CheckReader = Rpc.make("CheckReader", {
  payload: { readerId: UserId, ip },
  success: Schema.Struct({ head: Seq }),
  error: Schema.Union(ChannelNotFound, NotAMember, ChannelUnavailable)
})

/** The channel and its members. */
export const Info = Rpc.make("Info", {
  payload: {},
  success: Channel,
  error: Schema.Union(ChannelNotFound, ChannelUnavailable)
})

/**
 * Follows the channel: first a chunk with the messages after `afterSeq` (up
 * to the current head; none when `afterSeq` is omitted), then every commit as
 * it happens, plus a keep-alive chunk at the channel's keep-alive interval
 * (`PLEXI_FEED_KEEPALIVE`) so that a follower notices a dead owner. Used by
 * edges, one subscription per edge and channel.
 */
export const Subscribe = Rpc.make("Subscribe", {
  payload: { afterSeq: Schema.optional(Seq) },
  success: FeedChunk,
  error: Schema.Union(ChannelNotFound, ChannelUnavailable),
  stream: true
})

/** The sharded Channel entity, addressed by `ChannelId`. */
export const ChannelEntity = Entity.make("Channel", [
  Create,
  Join,
  AddMember,
  Leave,
  RemoveMember,
  UpdateChannel,
  Post,
  History,
  CheckReader,
  Info,
  Subscribe
])
