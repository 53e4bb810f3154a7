/**
 * PlexiChat's own metrics (docs/OPERATIONS.md, "Metrics", lists every name).
 * Hooks, not `Effect`s: the hot paths update them with a plain call that
 * allocates nothing (MetricHooks.ts). The cluster library adds its own
 * (`effect_cluster_entities` by entity type, `effect_cluster_shards`, …), and
 * runtime/telemetry/RuntimeSampler.ts the process gauges.
 */
import type { ClientFrame, ServerFrame } from "../../domain/Protocol.ts"
import { countersBy, counterHook, histogramHook, lazyCountersBy } from "./MetricHooks.ts"

const clientFrameTypes: Record<ClientFrame["type"], true> = {
  auth: true, subscribe: true, unsubscribe: true, post: true, history: true, ping: true, remove_member: true, update_channel: true
}
const serverFrameTypes: Record<ServerFrame["type"], true> = {
  hello: true, authenticated: true, subscribed: true, unsubscribed: true, message: true, ack: true, history: true, pong: true,
  channel: true, token_expiring: true, error: true
}

/** Frames a client sent, by `type`; `invalid` (refused by the decoder) and `rate_limited` (dropped by the frame limit) too. */
export const framesIn = countersBy(
  "plexichat_ws_frames_in_total",
  "WebSocket frames received, by type (invalid: refused by the decoder; rate_limited: dropped by the frame limit)",
  "type",
  [...Object.keys(clientFrameTypes) as Array<ClientFrame["type"]>, "invalid", "rate_limited"]
)

/** Frames written to sockets, by `type`; a live `message` counts once per subscribed socket. */
export const framesOut = countersBy(
  "plexichat_ws_frames_out_total",
  "WebSocket frames sent, by type (a live message once per subscribed socket)",
  "type",
  Object.keys(serverFrameTypes) as Array<ServerFrame["type"]>
)

/** Messages committed to the store (each once, on the node that committed it). */
export const messagesPosted = counterHook("plexichat_messages_posted_total", "Chat messages committed to the store")

/** Live messages handed to subscribed WebSockets on this edge, once per socket. */
export const messagesDelivered = counterHook(
  "plexichat_messages_delivered_total",
  "Live chat messages handed to subscribed WebSockets on this edge, once per socket"
)

/** Rows in one group-commit INSERT. */
export const commitBatchRows = histogramHook(
  "plexichat_commit_batch_rows",
  "Messages per group-commit INSERT",
  [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
)

const latencyMs = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]

/** Time of one group-commit INSERT (statement and commit), in milliseconds. */
export const commitLatencyMs = histogramHook("plexichat_commit_latency_ms", "Time of one group-commit INSERT, in milliseconds", latencyMs)

/**
 * From the message's acceptance by its Channel entity (its `createdAt`) to the
 * uWS publish on this edge, in milliseconds; across nodes it includes their
 * clock difference.
 */
export const deliveryLatencyMs = histogramHook(
  "plexichat_delivery_latency_ms",
  "From a message's acceptance by its Channel entity (createdAt) to its publish on this edge, in milliseconds",
  latencyMs
)

const rateLimitedName = "plexichat_rate_limited_total"
const rateLimitedHelp = "Requests refused by a rate limit, by limit"

/** Refusals by a rate limit, by `limit`. */
export const rateLimited = countersBy(rateLimitedName, rateLimitedHelp, "limit", [
  "ws_frames",
  "ws_connections",
  "user_post",
  "user_join",
  "user_api",
  "sign_in"
])

/** Errors answered to clients, by `door` (`ws`, `http`, `rpc`) and the error's `tag` (a domain error's `_tag`, or a WebSocket error code). */
export const errors = {
  ws: lazyCountersBy("plexichat_errors_total", "Errors answered to clients, by door and tag", "tag", { door: "ws" }),
  http: lazyCountersBy("plexichat_errors_total", "Errors answered to clients, by door and tag", "tag", { door: "http" }),
  /** Typed RPC failures (in 200 NDJSON exits), by `_tag` (src/api/RpcErrorCountLive.ts). */
  rpc: lazyCountersBy("plexichat_errors_total", "Errors answered to clients, by door and tag", "tag", { door: "rpc" })
}
