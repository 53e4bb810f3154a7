/**
 * Branded identifiers shared by every part of PlexiChat.
 *
 * Ids are opaque strings chosen by the server (`ChannelId`) or by the
 * identity provider (`UserId`). A `MessageId` is derived from the channel and
 * the per-channel sequence number, so it is unique and stable across retries.
 */
import { Schema } from "effect"

/** The rule of every id below: 1 to `idMaxLength` characters matching `idPattern` (also checked by hand on hot paths). */
export const idMaxLength = 64
export const idPattern = /^[A-Za-z0-9_.:-]+$/

const IdString = Schema.String.pipe(
  Schema.minLength(1),
  Schema.maxLength(idMaxLength),
  Schema.pattern(idPattern)
)

/** A user, as named by the identity layer: `u_<random>` for an account (src/auth/AccountKit.ts `newUserId`). */
export const UserId = IdString.pipe(Schema.brand("UserId"))
export type UserId = typeof UserId.Type

/** A channel. Server-generated for new channels (`c_<random>`). */
export const ChannelId = IdString.pipe(Schema.brand("ChannelId"))
export type ChannelId = typeof ChannelId.Type

/** A signed-in session (one device): `s_<random>`, server-generated at login. */
export const SessionId = Schema.String.pipe(
  Schema.minLength(1),
  Schema.maxLength(64),
  Schema.pattern(/^s_[A-Za-z0-9_-]+$/),
  Schema.brand("SessionId")
)
export type SessionId = typeof SessionId.Type

/** A message: `<channelId>:<seq>`. */
export const MessageId = Schema.String.pipe(Schema.brand("MessageId"))
export type MessageId = typeof MessageId.Type

/** A gap-free per-channel sequence number; the first message of a channel has seq 1. */
export const Seq = Schema.Int.pipe(Schema.nonNegative())

export const messageIdOf = (channelId: ChannelId, seq: number): MessageId => `${channelId}:${seq}` as MessageId
