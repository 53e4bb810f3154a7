/**
 * Errors that cross an RPC, entity or HTTP boundary. Each carries the HTTP
 * status the REST API answers with, and a stable `code` used by the
 * WebSocket protocol (see docs/PROTOCOL.md).
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"
import { ChannelId, UserId } from "./Ids.ts"

/** The token is missing, malformed, badly signed or expired. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** The channel does not exist (or was never created). */
export class ChannelNotFound extends Schema.TaggedError<ChannelNotFound>()(
  "ChannelNotFound",
  { channelId: ChannelId },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** The channel id is already taken. */
export class ChannelAlreadyExists extends Schema.TaggedError<ChannelAlreadyExists>()(
  "ChannelAlreadyExists",
  { channelId: ChannelId },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** The user is not a member of the channel, so it may not post or read there. */
export class NotAMember extends Schema.TaggedError<NotAMember>()(
  "NotAMember",
  { channelId: ChannelId, userId: UserId },
  HttpApiSchema.annotations({ status: 403 })
) {}

/** The user lacks the role an operation needs (e.g. adding members to a private channel). */
export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

/** A payload that parsed but broke a rule the schema cannot express. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()(
  "InvalidRequest",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

/** Too many requests; retry after `retryAfterMs`. */
export class RateLimited extends Schema.TaggedError<RateLimited>()(
  "RateLimited",
  { retryAfterMs: Schema.Number },
  HttpApiSchema.annotations({ status: 429 })
) {}

/**
 * The channel could not serve the request right now: its store failed, its
 * handler crashed and was restarted, it is busy, or its shard is moving
 * between nodes. A post that failed this way may or may not have been
 * committed: retry it with the same `clientMsgId`, which never creates a
 * second message (a new `clientMsgId` would).
 */
export class ChannelUnavailable extends Schema.TaggedError<ChannelUnavailable>()(
  "ChannelUnavailable",
  { channelId: ChannelId, reason: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

/** A service other than a channel (e.g. the user directory) could not answer; safe to retry. */
export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>()(
  "ServiceUnavailable",
  { reason: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

/** Every domain error a client can be answered with; the WebSocket error-code mapping is a total record over it. */
export type DomainError =
  | Unauthorized
  | ChannelNotFound
  | ChannelAlreadyExists
  | NotAMember
  | Forbidden
  | InvalidRequest
  | RateLimited
  | ChannelUnavailable
  | ServiceUnavailable
