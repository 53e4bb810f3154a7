/**
 * Settings of the channel unit (the Channel entity, its live feed and the
 * group-commit writer), in the `ShardingConfig` style: a Tag, `defaults`,
 * a validated `config` read from the environment, `layer(options)` and
 * `layerFromEnv(options)`. A size or count below 1, or a keep-alive of 0, is
 * a start-up error naming the variable. README's configuration table lists
 * the same variables.
 */
import { Config, Context, Duration } from "effect"
import { configLayers } from "../config/ConfigLayers.ts"
import { positiveDuration, positiveInteger, shortDuration } from "../config/Settings.ts"

export interface ChannelConfigShape {
  /** Group-commit flushers, i.e. message INSERTs in flight at once (always 1 on PGlite). */
  readonly commitFlushers: number
  /** The most message rows one group-commit INSERT carries. */
  readonly maxBatchRows: number
  /** How long a group-commit batch waits for company after its first request (thin traffic shares INSERTs). */
  readonly commitLinger: Duration.Duration
  /** How often followers of a channel get a keep-alive chunk, so they notice a dead owner. */
  readonly feedKeepAlive: Duration.Duration
  /** Feed chunks buffered per follower before the oldest are dropped (the follower then sees a gap and reopens). */
  readonly feedBuffer: number
  /** Recent messages each active channel keeps in memory to serve History and catch-ups without a query. */
  readonly windowSize: number
  /** Idempotency keys loaded on activation; retries older than this are looked up in Postgres. */
  readonly dedupeLoad: number
  /** Idempotency keys an active channel keeps in memory at most. */
  readonly dedupeMax: number
}

/**
 * How long an entity with no request stays active before the cluster
 * passivates it (the library's default, set explicitly in the cluster's
 * settings because `LocalChannels` must report direct traffic within it).
 */
export const entityIdleTime = Duration.minutes(1)

export class ChannelConfig extends Context.Tag("plexichat/ChannelConfig")<ChannelConfig, ChannelConfigShape>() {}

export const defaults: ChannelConfigShape = {
  commitFlushers: 2,
  maxBatchRows: 4000,
  commitLinger: Duration.millis(2),
  feedKeepAlive: Duration.seconds(1),
  feedBuffer: 4096,
  windowSize: 512,
  dedupeLoad: 4096,
  dedupeMax: 100_000
}

export const config: Config.Config<ChannelConfigShape> = Config.all({
  commitFlushers: positiveInteger(
    "PLEXI_COMMIT_FLUSHERS",
    defaults.commitFlushers,
    "Group-commit flushers, i.e. message INSERTs in flight at once. Always 1 on PGlite."
  ),
  maxBatchRows: positiveInteger(
    "PLEXI_COMMIT_MAX_BATCH_ROWS",
    defaults.maxBatchRows,
    "The most message rows one group-commit INSERT carries."
  ),
  commitLinger: shortDuration(
    "PLEXI_COMMIT_LINGER",
    defaults.commitLinger,
    100,
    "How long a group-commit batch waits for more messages after its first one (0 ms: not at all); thin traffic then shares INSERTs."
  ),
  feedKeepAlive: positiveDuration(
    "PLEXI_FEED_KEEPALIVE",
    defaults.feedKeepAlive,
    "Keep-alive interval of channel feeds. An edge reopens a feed that stays silent for PLEXI_HUB_STALL_KEEPALIVES × this."
  ),
  feedBuffer: positiveInteger(
    "PLEXI_FEED_BUFFER",
    defaults.feedBuffer,
    "Feed chunks buffered per follower of a channel; past it the oldest are dropped and the follower reopens its feed."
  ),
  windowSize: positiveInteger(
    "PLEXI_CHANNEL_WINDOW",
    defaults.windowSize,
    "Recent messages each active channel keeps in memory (History and catch-ups within it need no query)."
  ),
  dedupeLoad: positiveInteger(
    "PLEXI_CHANNEL_DEDUPE_LOAD",
    defaults.dedupeLoad,
    "Idempotency keys a channel loads on activation; older retries are looked up in Postgres."
  ),
  dedupeMax: positiveInteger(
    "PLEXI_CHANNEL_DEDUPE_MAX",
    defaults.dedupeMax,
    "Idempotency keys an active channel keeps in memory at most."
  )
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(ChannelConfig, defaults, config)
