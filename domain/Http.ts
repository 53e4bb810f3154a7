/**
 * The REST contract (`/api/v1`), an `HttpApi` whose OpenAPI document is
 * served at `/api/v1/openapi.json`. It mirrors the typed RPC group for
 * clients that speak plain HTTP.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, HttpApiSecurity, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { CurrentUser } from "./Api.ts"
import { Channel, ChannelName, ClientMsgId, HistoryLimit, Message, MessageBody, Role, Visibility } from "./Channel.ts"
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
import { ChannelId, UserId } from "./Ids.ts"
import { DisplayName, User } from "./User.ts"

/** Bearer-token authentication for REST endpoints, with the caller's request rate limit. */
export class HttpAuthentication extends HttpApiMiddleware.Tag<HttpAuthentication>()("plexichat/HttpAuthentication", {
  failure: Schema.Union(Unauthorized, RateLimited),
  provides: CurrentUser,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

const channelId = HttpApiSchema.param("channelId", ChannelId)

export const Health = Schema.Struct({
  status: Schema.Literal("ok"),
  nodeId: Schema.String,
  websocketEngine: Schema.Literal("uws-native", "ws-fallback"),
  shards: Schema.Number,
  connections: Schema.Number,
  /** Channels this edge follows right now: one feed per channel with local subscribers. */
  feeds: Schema.Number,
  database: Schema.Literal("postgres", "pglite"),
  cluster: Schema.Literal("single", "multi")
})
export type Health = typeof Health.Type

/** Where a channel's shard lives, as seen from the node answering. */
export const ChannelLocation = Schema.Struct({
  channelId: ChannelId,
  shard: Schema.String,
  nodeId: Schema.String,
  ownedHere: Schema.Boolean
})

export class SystemApi extends HttpApiGroup.make("system")
  .add(HttpApiEndpoint.get("health", "/health").addSuccess(Health))
  .add(HttpApiEndpoint.get("locate")`/cluster/channels/${channelId}`.addSuccess(ChannelLocation))
{}

/** TEMPORARY development sign-in: issues a signed token for any user id. Replaced by the identity issue. */
export const DevToken = Schema.Struct({ token: Schema.String, userId: UserId, expiresAt: Schema.Number })

export class DevAuthApi extends HttpApiGroup.make("devAuth")
  .add(
    HttpApiEndpoint.post("issueToken", "/dev/token")
      .setPayload(Schema.Struct({ userId: UserId, displayName: Schema.optional(DisplayName) }))
      .addSuccess(DevToken)
      .addError(ServiceUnavailable)
      .addError(Forbidden)
      .addError(RateLimited)
  )
  .annotate(OpenApi.Description, "Temporary development sign-in; disabled when PLEXI_DEV_AUTH=false.")
{}

export class ChannelsApi extends HttpApiGroup.make("channels")
  .add(
    HttpApiEndpoint.post("create", "/channels")
      .setPayload(Schema.Struct({ name: ChannelName, visibility: Schema.optional(Visibility) }))
      .addSuccess(Channel, { status: 201 })
      .addError(ChannelAlreadyExists)
  )
  .add(HttpApiEndpoint.post("join")`/channels/${channelId}/join`.addSuccess(Channel).addError(Forbidden))
  .add(
    HttpApiEndpoint.post("addMember")`/channels/${channelId}/members`
      .setPayload(Schema.Struct({ userId: UserId, role: Schema.optional(Role) }))
      .addSuccess(Channel)
      .addError(Forbidden)
      .addError(NotAMember)
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
        afterSeq: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative())),
        limit: Schema.optional(Schema.compose(Schema.NumberFromString, HistoryLimit))
      }))
      .addSuccess(Schema.Array(Message))
      .addError(NotAMember)
  )
  .add(HttpApiEndpoint.get("me", "/me").addSuccess(User).addError(ServiceUnavailable))
  .addError(ChannelNotFound)
  .addError(ChannelUnavailable)
  .middleware(HttpAuthentication)
{}

export class PlexiHttpApi extends HttpApi.make("plexichat")
  .add(SystemApi)
  .add(DevAuthApi)
  .add(ChannelsApi)
  .prefix("/api/v1")
  .annotate(OpenApi.Title, "PlexiChat API")
{}
