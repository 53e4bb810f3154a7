/**
 * The settings of the WebSocket gateway (`/ws`), in the `ShardingConfig`
 * style: a Tag, `defaults`, `config` read from `PLEXI_WS_*`, `layer(options)`
 * and `layerFromEnv(options)`. Every value is validated at start-up: a rate
 * of 0 or a negative size fails with the variable's name. README's
 * configuration table lists the same names.
 */
import { Config, Context, Duration } from "effect"
import { configLayers } from "../../src/config/ConfigLayers.ts"
import { positiveDuration, positiveInteger, positiveNumber } from "../../src/config/Settings.ts"

export interface WsConfigShape {
  readonly maxFrameBytes: number
  readonly maxBackpressureBytes: number
  readonly drainTimeout: Duration.Duration
  readonly maxSubscriptions: number
  readonly rateLimit: number
  readonly rateBurst: number
  readonly idleTimeoutSeconds: number
  readonly authTimeout: Duration.Duration
  /** How long before its token expires a socket is sent `token_expiring`. */
  readonly tokenExpiryWarning: Duration.Duration
  readonly maxConnectionsPerIp: number
  readonly maxUnauthenticatedPerIp: number
  /** Open authenticated WebSockets of one user on this node. */
  readonly maxConnectionsPerUser: number
  readonly maxNestingDepth: number
  readonly floodCloseAfter: number
  readonly floodWindow: Duration.Duration
  readonly backpressureSweepInterval: Duration.Duration
  readonly limitLogInterval: Duration.Duration
}

export class WsConfig extends Context.Tag("plexichat/WsConfig")<WsConfig, WsConfigShape>() {}

export const defaults: WsConfigShape = {
  maxFrameBytes: 64 * 1024,
  maxBackpressureBytes: 1024 * 1024,
  drainTimeout: Duration.seconds(30),
  maxSubscriptions: 1000,
  rateLimit: 200,
  rateBurst: 400,
  idleTimeoutSeconds: 120,
  authTimeout: Duration.seconds(10),
  tokenExpiryWarning: Duration.seconds(60),
  maxConnectionsPerIp: 1000,
  maxUnauthenticatedPerIp: 100,
  maxConnectionsPerUser: 100,
  maxNestingDepth: 32,
  floodCloseAfter: 2000,
  floodWindow: Duration.seconds(10),
  backpressureSweepInterval: Duration.millis(50),
  limitLogInterval: Duration.seconds(10)
}

export const config: Config.Config<WsConfigShape> = Config.all({
  maxFrameBytes: positiveInteger("PLEXI_WS_MAX_FRAME_BYTES", defaults.maxFrameBytes, "Largest client frame served; above it frame_too_large."),
  maxBackpressureBytes: positiveInteger(
    "PLEXI_WS_MAX_BACKPRESSURE_BYTES",
    defaults.maxBackpressureBytes,
    "Send buffer per socket before a slow consumer is closed with 4008."
  ),
  drainTimeout: positiveDuration(
    "PLEXI_WS_DRAIN_TIMEOUT",
    defaults.drainTimeout,
    "Time a slow consumer gets to drain its backlog before its connection is dropped without 4008."
  ),
  maxSubscriptions: positiveInteger(
    "PLEXI_WS_MAX_SUBSCRIPTIONS",
    defaults.maxSubscriptions,
    "Channels one socket may follow at once; more subscribes get too_many_subscriptions."
  ),
  rateLimit: positiveNumber("PLEXI_WS_RATE_LIMIT", defaults.rateLimit, "Frames per second per connection (token bucket refill)."),
  rateBurst: positiveNumber("PLEXI_WS_RATE_BURST", defaults.rateBurst, "Token bucket size per connection."),
  idleTimeoutSeconds: positiveInteger("PLEXI_WS_IDLE_TIMEOUT_SECONDS", defaults.idleTimeoutSeconds, "uWS idle timeout (server pings)."),
  authTimeout: positiveDuration("PLEXI_WS_AUTH_TIMEOUT", defaults.authTimeout, "Time to authenticate before close 4002."),
  tokenExpiryWarning: positiveDuration(
    "PLEXI_WS_TOKEN_EXPIRY_WARNING",
    defaults.tokenExpiryWarning,
    "How long before a socket's token expires it is sent token_expiring (then closed with 4001 at expiry unless it re-authenticates)."
  ),
  maxConnectionsPerIp: positiveInteger(
    "PLEXI_WS_MAX_CONNECTIONS_PER_IP",
    defaults.maxConnectionsPerIp,
    "Open WebSockets per client address; more upgrades get HTTP 429."
  ),
  maxUnauthenticatedPerIp: positiveInteger(
    "PLEXI_WS_MAX_UNAUTHENTICATED_PER_IP",
    defaults.maxUnauthenticatedPerIp,
    "Open unauthenticated WebSockets per client address; more upgrades without a token get HTTP 429."
  ),
  maxConnectionsPerUser: positiveInteger(
    "PLEXI_WS_MAX_CONNECTIONS_PER_USER",
    defaults.maxConnectionsPerUser,
    "Open authenticated WebSockets of one user on a node; more get HTTP 429 at upgrade, or too_many_connections for an auth frame."
  ),
  maxNestingDepth: positiveInteger("PLEXI_WS_MAX_NESTING_DEPTH", defaults.maxNestingDepth, "Deepest JSON nesting in a frame."),
  floodCloseAfter: positiveInteger("PLEXI_WS_FLOOD_CLOSE_AFTER", defaults.floodCloseAfter, "Refused frames per window before close 4029."),
  floodWindow: positiveDuration("PLEXI_WS_FLOOD_WINDOW", defaults.floodWindow, "Window in which refused frames are counted."),
  backpressureSweepInterval: positiveDuration(
    "PLEXI_WS_BACKPRESSURE_SWEEP_INTERVAL",
    defaults.backpressureSweepInterval,
    "How often subscribed sockets' send buffers are checked."
  ),
  limitLogInterval: positiveDuration(
    "PLEXI_WS_LIMIT_LOG_INTERVAL",
    defaults.limitLogInterval,
    "At most one log line per address and limit in this interval."
  )
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(WsConfig, defaults, config)
