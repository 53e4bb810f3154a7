/**
 * The settings the bench starts PlexiChat nodes with.
 *
 * - `relaxed`: the per-socket rate limit, send buffer and per-address
 *   connection limit raised, since a benchmark floods from one address by
 *   design; the REST budget raised so that set-up (10,000 channels, 10,000
 *   users) is never refused.
 *   BENCH_ENV="NAME=value;NAME=value" adds or overrides settings of it (to measure a knob).
 * - `shipped`: the defaults a deployment gets (README's configuration table),
 *   also for REST (the test fixture otherwise raises PLEXI_API_RATE_BURST).
 *
 * Both keep the test fixture's cheap Argon2 cost (startNode's `cheapArgon2`:
 * set-up signs up to 10,000 users; LoginBurst.ts measures the shipped cost)
 * and give access tokens 2 hours, so that no scenario's sockets reach their
 * token's expiry (at which a socket is closed) mid-measurement.
 *
 *   The cluster-wide per-user post and join budgets stay the fixture's raised
 *   ones in both: the shipped 20 posts per second per user would refuse most
 *   of a bench poster's messages, which measures the limit, not the node.
 */
import { generousSignIns } from "../../fixtures/NodeProcess.ts"
const longTokens = { PLEXI_AUTH_ACCESS_TTL: "2 hours" }

export const relaxedEnv: Record<string, string> = {
  ...longTokens,
  PLEXI_WS_RATE_LIMIT: "1000000",
  PLEXI_WS_RATE_BURST: "1000000",
  PLEXI_WS_MAX_BACKPRESSURE_BYTES: String(64 * 1024 * 1024),
  PLEXI_WS_MAX_CONNECTIONS_PER_IP: "100000",
  PLEXI_WS_MAX_CONNECTIONS_PER_USER: "100000",
  PLEXI_API_RATE_LIMIT: "100000",
  PLEXI_API_RATE_BURST: "100000",
  PLEXI_POST_RATE_LIMIT: "1000000",
  PLEXI_POST_RATE_BURST: "1000000",
  PLEXI_JOIN_RATE_LIMIT: "1000000",
  PLEXI_JOIN_RATE_BURST: "1000000",
  ...generousSignIns,
  ...(process.env.BENCH_FLUSHERS ? { PLEXI_COMMIT_FLUSHERS: process.env.BENCH_FLUSHERS } : {}),
  ...Object.fromEntries((process.env.BENCH_ENV ?? "").split(";").filter((kv) => kv.includes("=")).map((kv) => {
    const at = kv.indexOf("=")
    return [kv.slice(0, at).trim(), kv.slice(at + 1).trim()]
  }))
}

export const shippedEnv: Record<string, string> = {
  ...longTokens,
  PLEXI_API_RATE_BURST: "200"
}
