/**
 * Where the hub delivers live messages for a channel (the uWS edge implements
 * it with `publish` on a per-channel topic).
 */
import { Context } from "effect"
import type { Message } from "../../domain/Channel.ts"
import type { ChannelId, UserId } from "../../domain/Ids.ts"

export class FanOut extends Context.Tag("plexichat/FanOut")<FanOut, {
  readonly publish: (channelId: ChannelId, messages: ReadonlyArray<Message>) => void
  /** Stops the live feed of these users on this channel: they left a private channel. */
  readonly revoke: (channelId: ChannelId, userIds: ReadonlyArray<UserId>) => void
  /** Stops the live feed of everyone on this channel who is not in `members` (a private channel's readers). */
  readonly retain: (channelId: ChannelId, members: ReadonlySet<UserId>) => void
}>() {}
