/**
 * Settings of the edge's messaging: the ChannelHub (live feeds) and the
 * PostOutbox (post batching and deadline), in the `ShardingConfig` style: a
 * tag, `defaults`, a validated `config` read from the environment, `layer`
 * and `layerFromEnv`. The README's configuration table lists the same names.
 */
import { Config, Context, Duration } from "effect"
import { configLayers } from "../config/ConfigLayers.ts"
import { integerAtLeast, positiveDuration } from "../config/Settings.ts"
import type { HubOptions } from "./ChannelHub.ts"
import type { PostOutboxOptions } from "./PostOutbox.ts"

export interface HubConfigShape {
  /** Recent messages kept per feed to catch subscribers up without a History call. */
  readonly ringSize: number
  /** How long a subscribe may wait for the edge's feed (to open, or to reach the subscriber's lastSeq). */
  readonly attachTimeout: Duration.Duration
  /** Messages a typed-RPC subscriber may fall behind before its stream ends with `ChannelUnavailable`. */
  readonly streamBuffer: number
  /** A feed silent (no chunk, no keep-alive) for this many keep-alive intervals is reopened. */
  readonly stallKeepAlives: number
  /** Posts sent to a channel in one entity call at most. */
  readonly outboxMaxBatch: number
  /** Posts waiting for one channel at most; past it a post fails at once with `channel busy`. */
  readonly outboxMaxQueue: number
  /** A post whose outcome is not known by then is answered with `channel_unavailable` ("no answer within …"). */
  readonly postTimeout: Duration.Duration
}

export class HubConfig extends Context.Tag("plexichat/HubConfig")<HubConfig, HubConfigShape>() {}

export const defaults: HubConfigShape = {
  ringSize: 1024,
  attachTimeout: Duration.seconds(10),
  streamBuffer: 4096,
  stallKeepAlives: 3,
  outboxMaxBatch: 1000,
  outboxMaxQueue: 20_000,
  postTimeout: Duration.seconds(10)
}

export const config: Config.Config<HubConfigShape> = Config.all({
  ringSize: integerAtLeast("PLEXI_HUB_RING_SIZE", 1, defaults.ringSize, "Recent messages kept per channel feed on an edge."),
  attachTimeout: positiveDuration(
    "PLEXI_HUB_ATTACH_TIMEOUT",
    defaults.attachTimeout,
    "How long a subscribe waits for the edge's channel feed before channel_unavailable."
  ),
  streamBuffer: integerAtLeast(
    "PLEXI_HUB_STREAM_BUFFER",
    1,
    defaults.streamBuffer,
    "Messages a typed-RPC subscriber may fall behind before its stream ends."
  ),
  stallKeepAlives: integerAtLeast(
    "PLEXI_HUB_STALL_KEEPALIVES",
    2,
    defaults.stallKeepAlives,
    "Keep-alive intervals of silence after which an edge reopens a channel feed."
  ),
  outboxMaxBatch: integerAtLeast("PLEXI_OUTBOX_MAX_BATCH", 1, defaults.outboxMaxBatch, "Posts sent to a channel in one call."),
  outboxMaxQueue: integerAtLeast(
    "PLEXI_OUTBOX_MAX_QUEUE",
    1,
    defaults.outboxMaxQueue,
    "Posts waiting for one channel before further posts get channel busy."
  ),
  postTimeout: positiveDuration(
    "PLEXI_POST_TIMEOUT",
    defaults.postTimeout,
    "Longest wait for a post's outcome before the client gets channel_unavailable."
  )
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(HubConfig, defaults, config)

/** The hub's options; a feed's stall limit follows the channels' keep-alive interval. */
export const hubOptions = (c: HubConfigShape, feedKeepAlive: Duration.Duration): HubOptions => ({
  stallMs: Duration.toMillis(feedKeepAlive) * c.stallKeepAlives,
  ringSize: c.ringSize,
  attachTimeoutMs: Duration.toMillis(c.attachTimeout),
  streamBuffer: c.streamBuffer
})

export const outboxOptions = (c: HubConfigShape): PostOutboxOptions => ({
  maxBatch: c.outboxMaxBatch,
  maxQueue: c.outboxMaxQueue,
  postTimeoutMs: Duration.toMillis(c.postTimeout)
})
