/**
 * The failures of copying one channel out of a backup into the live database under a new id
 * (`plexichat backup restore --channel <id> --as <newId|auto>`, docs/BACKUPS.md#channel-copy). Nothing of a failed
 * copy is applied (it runs in one transaction).
 */
import { Schema } from "effect"

/** The new id is already a channel of the live database. */
export class ChannelIdTaken extends Schema.TaggedError<ChannelIdTaken>()("ChannelIdTaken", {
  channelId: Schema.String,
  reason: Schema.String
}) {}

/** The backup chain's newest state holds no channel with this id. */
export class ChannelNotInBackup extends Schema.TaggedError<ChannelNotInBackup>()("ChannelNotInBackup", {
  backup: Schema.String,
  channel: Schema.String,
  reason: Schema.String
}) {}

/** The new id given is not a channel id (1 to 64 of A-Z a-z 0-9 _ . : -). */
export class ChannelIdInvalid extends Schema.TaggedError<ChannelIdInvalid>()("ChannelIdInvalid", {
  channelId: Schema.String,
  reason: Schema.String
}) {}
