/**
 * What the handlers of one Channel entity incarnation share (built by
 * `makeParts` in ChannelEntity.ts), and how a serial handler runs.
 */
import type { Effect, Option } from "effect"
import type { Message } from "../../../domain/Channel.ts"
import type { ChannelUnavailable } from "../../../domain/Errors.ts"
import type { ChannelId } from "../../../domain/Ids.ts"
import type { MessageStore, ShardHold } from "../../messaging/MessageStore.ts"
import type { Access } from "./ChannelAccess.ts"
import type { ChannelFeed } from "./ChannelFeed.ts"
import type { Guards } from "./ChannelGuards.ts"
import type { Live } from "./ChannelState.ts"
import type { StateCell } from "./ChannelStateCell.ts"

export interface Parts {
  readonly channelId: ChannelId
  readonly store: MessageStore
  readonly cell: StateCell
  readonly feed: ChannelFeed
  readonly guards: Guards
  /** The shard every claim and Create must hold (none on a single runner). */
  readonly hold: Option.Option<ShardHold>
  readonly between: (s: Live, afterSeq: number, upTo: number, limit: number) => Effect.Effect<ReadonlyArray<Message>, ChannelUnavailable>
  /** Workspace roles and the audit of refusals and changes (ChannelAccess.ts). */
  readonly access: Access
}

/** Runs an effect as a serial handler: one at a time, with every other serial handler of the entity. */
export type Serial = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | ChannelUnavailable, R>
