/** The cluster view as `plexichat status` prints it for people. */
import type { ClusterView, CommitLatency } from "../../domain/Operations.ts"
import { table, time } from "./Output.ts"

/** The answering node's commit latency, or why there is none. */
export const renderCommitLatency = (latency: CommitLatency | undefined) =>
  latency === undefined
    ? "commit latency: not reported (a node older than protocol 1.2)"
    : latency.count === 0
    ? `commit latency: no commits on this node in the last ${Math.round(latency.windowMs / 1000)} s`
    : `commit latency p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms (${latency.count} commits on this node in the last ${Math.round(latency.windowMs / 1000)} s)`

export const renderCluster = (view: ClusterView) =>
  [
    `cluster: ${view.mode}, ${view.nodes.length} node(s), ${view.shardsTotal} shards; protocol ${view.protocolVersion}, schema ${view.schemaVersion}`,
    `answered by ${view.answeredBy.nodeId} at ${time(view.at)}: ${view.answeredBy.shards} shards, ${view.answeredBy.connections} connections, ` +
    `${view.answeredBy.feeds} feeds, ${view.answeredBy.database}, ${view.answeredBy.websocketEngine}`,
    renderCommitLatency(view.answeredBy.commitLatency),
    `accounts ${view.counts.accounts} (${view.counts.disabledAccounts} disabled), channels ${view.counts.channels}, ` +
    `messages ${view.counts.messages}, active sessions ${view.counts.activeSessions}`,
    "",
    table(
      ["NODE", "HEALTHY", "SHARDS", "HEARTBEAT", "RELEASE", "SELF"],
      view.nodes.map((n) => [
        n.address,
        n.healthy ? "yes" : "NO",
        n.shards,
        `${n.heartbeatAgeMs} ms ago`,
        n.release === undefined ? "unrecorded" : `${n.release.packageVersion} (protocol ${n.release.protocolVersion})`,
        n.self ? "*" : ""
      ])
    )
  ].join("\n")
