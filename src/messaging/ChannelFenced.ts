/**
 * A write refused because the channel was claimed by a newer incarnation of
 * its entity (on this node or another) since this one loaded its state: the
 * writer holds a stale `owner_epoch`. Nothing of the write was applied. It
 * stays inside the process: the entity drops its state and answers
 * `ChannelUnavailable` (a retry reaches the current owner).
 */
import { Data } from "effect"
import type { ChannelId } from "../../domain/Ids.ts"

export class ChannelFenced extends Data.TaggedError("ChannelFenced")<{
  readonly channelId: ChannelId
  /** The epoch the refused write carried. */
  readonly epoch: number
}> {}
