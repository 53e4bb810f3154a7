/**
 * Fault-injection point for hub tests: `beforeChunk`, when set, runs before
 * the hub handles each chunk of a channel feed, so a test can hold a feed
 * (an edge that falls behind) without timing. Unset (the default), the hub
 * pays nothing for it.
 */
import { Context, type Effect } from "effect"
import type { FeedChunk } from "../../domain/Channel.ts"
import type { ChannelId } from "../../domain/Ids.ts"

export class HubHooks extends Context.Reference<HubHooks>()("plexichat/HubHooks", {
  defaultValue: (): {
    readonly beforeChunk?: ((channelId: ChannelId, chunk: FeedChunk) => Effect.Effect<void>) | undefined
  } => ({})
}) {}
