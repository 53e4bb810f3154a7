/**
 * The channel operations of the REST contract (`/api/v1/channels`, `/me`),
 * part of `PlexiHttpApi` (Http.ts); they mirror the typed RPC group.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Channel, ChannelName, ChannelSettings, ClientMsgId, HistoryLimit, Message, MessageBody, Role, Visibility } from "./Channel.ts"
import { ChannelAlreadyExists, ChannelNotFound, ChannelUnavailable, Forbidden, InvalidRequest, NotAMember, RateLimited, ServiceUnavailable } from "./Errors.ts"
import { HttpAuthentication } from "./HttpAuthentication.ts"
import { ChannelId, Seq, UserId } from "./Ids.ts"
import { User } from "./User.ts"

/** The `:channelId` path parameter. */
export const channelId = HttpApiSchema.param("channelId", ChannelId)
const memberId = HttpApiSchema.param("userId", UserId)

/**
 * A query integer: a decimal string on the wire, decoded into `target`; the
 * OpenAPI document shows it as an integer with the bounds of `target`.
 */
const queryInteger = (target: Schema.Schema<number>, bounds: { minimum: number; maximum?: number; default: number }, description: string) =>
  Schema.compose(Schema.NumberFromString, target).annotations({
    description,
    jsonSchema: { type: "integer", ...bounds, description }
  })

/** `afterSeq`: messages with a greater seq; 0 (the default) reads from the start. */
export const AfterSeqParam = queryInteger(Seq, { minimum: 0, default: 0 }, "Only messages with a seq greater than this (default 0).")

/** `limit`: at most this many messages, 1 to 1000 (default 100). */
export const LimitParam = queryInteger(HistoryLimit, { minimum: 1, maximum: 1000, default: 100 }, "At most this many messages, 1 to 1000 (default 100).")

/** Channels, their members and settings, and messages; an access token (Bearer) is needed. */
export class ChannelsApi extends HttpApiGroup.make("channels")
  .add(
    HttpApiEndpoint.post("create", "/channels")
      .setPayload(Schema.Struct({ name: ChannelName, visibility: Schema.optional(Visibility) }))
      .addSuccess(Channel, { status: 201 })
      .addError(ChannelAlreadyExists)
      .addError(Forbidden)
  )
  .add(HttpApiEndpoint.post("join")`/channels/${channelId}/join`.addSuccess(Channel).addError(Forbidden).addError(RateLimited))
  .add(
    HttpApiEndpoint.post("addMember")`/channels/${channelId}/members`
      .setPayload(Schema.Struct({ userId: UserId, role: Schema.optional(Role) }))
      .addSuccess(Channel)
      .addError(Forbidden)
      .addError(NotAMember)
  )
  .add(
    HttpApiEndpoint.del("removeMember")`/channels/${channelId}/members/${memberId}`
      .addSuccess(Channel)
      .addError(Forbidden)
      .addError(NotAMember)
      .annotate(
        OpenApi.Description,
        "Removes a member (a kick) and answers the channel. A channel owner removes anyone but the last owner, a channel " +
          "admin plain members; in a public channel workspace owners and admins act as channel admins, and workspace " +
          "moderators remove plain members. 403 NotAMember when the user is not in the channel (also for a retry of a " +
          "removal that went through), or the caller, without powers, is not either; 403 Forbidden when the caller's " +
          "powers do not reach; 404 ChannelNotFound for a private channel the caller is not in. The removed user's " +
          "live feeds stop on every node when they may no longer read the channel. Audited."
      )
  )
  .add(
    HttpApiEndpoint.post("updateChannel")`/channels/${channelId}/settings`
      .setPayload(ChannelSettings)
      .addSuccess(Channel)
      .addError(Forbidden)
      .addError(NotAMember)
      .annotate(
        OpenApi.Description,
        "Manage channel: renames the channel and/or changes its visibility (each optional; an absent one stays; a " +
          "name follows the rules of channel creation and need not be unique) and answers the channel. A channel " +
          "owner or admin, in a public channel also a workspace owner or admin. Made private, the channel is at once " +
          "invisible to non-members (404 ChannelNotFound on every door) and their live feeds stop. 403 Forbidden for " +
          "a plain member, 403 NotAMember for a non-member of a public channel without powers, 404 ChannelNotFound " +
          "for a private channel the caller is not in. Audited."
      )
  )
  .add(HttpApiEndpoint.post("leave")`/channels/${channelId}/leave`.addSuccess(Channel).addError(NotAMember).addError(Forbidden))
  .add(
    HttpApiEndpoint.post("post")`/channels/${channelId}/messages`
      .setPayload(Schema.Struct({ clientMsgId: ClientMsgId, body: MessageBody }))
      .addSuccess(Message, { status: 201 })
      .addError(NotAMember)
      .addError(RateLimited)
      .addError(InvalidRequest)
  )
  .add(
    HttpApiEndpoint.get("history")`/channels/${channelId}/messages`
      .setUrlParams(Schema.Struct({
        // exact: a refused value gets one issue, not a second "Expected undefined" clause.
        afterSeq: Schema.optionalWith(AfterSeqParam, { exact: true }),
        limit: Schema.optionalWith(LimitParam, { exact: true })
      }))
      .addSuccess(Schema.Array(Message))
      .addError(NotAMember)
  )
  .add(HttpApiEndpoint.get("me", "/me").addSuccess(User).addError(ServiceUnavailable))
  .addError(ChannelNotFound)
  .addError(ChannelUnavailable)
  .middleware(HttpAuthentication)
{}

