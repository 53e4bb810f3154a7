/** The cluster view as `plexichat status` prints it for people. */
import type { ClusterView } from "../../domain/Operations.ts"
import { table, time } from "./Output.ts"

export const renderCluster = (view: ClusterView) =>
  [
    `cluster: ${view.mode}, ${view.nodes.length} node(s), ${view.shardsTotal} shards; protocol ${view.protocolVersion}, schema ${view.schemaVersion}`,
    `answered by ${view.answeredBy.nodeId} at ${time(view.at)}: ${view.answeredBy.shards} shards, ${view.answeredBy.connections} connections, ` +
    `${view.answeredBy.feeds} feeds, ${view.answeredBy.database}, ${view.answeredBy.websocketEngine}`,
    `accounts ${view.counts.accounts} (${view.counts.disabledAccounts} disabled), channels ${view.counts.channels}, ` +
    `messages ${view.counts.messages}, active sessions ${view.counts.activeSessions}`,
    "",
    table(
      ["NODE", "HEALTHY", "SHARDS", "HEARTBEAT", "SELF"],
      view.nodes.map((n) => [n.address, n.healthy ? "yes" : "NO", n.shards, `${n.heartbeatAgeMs} ms ago`, n.self ? "*" : ""])
    )
  ].join("\n")
