/**
 * Records at start which release this node runs (`plexi_node_releases`,
 * migration 0016), under its runner address on a cluster (the name
 * `cluster_runners` and `plexi_shard_holders` know it by) or its node id on a
 * single node, so that `plexichat status` shows each node's release
 * (src/operations/store/ClusterRows.ts).
 */
import { SqlClient } from "@effect/sql"
import { Clock, Effect, Layer, Option } from "effect"
import * as RunnerSocket from "./cluster/RunnerSocket.ts"
import { NodeId } from "./edge/Edge.ts"
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "./Release.ts"

export const NodeReleaseLive = Layer.effectDiscard(Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const nodeId = yield* NodeId
  const runner = yield* RunnerSocket.RunnerSocket
  const node = Option.match(runner, { onNone: () => nodeId, onSome: (r) => `${r.address.host}:${r.address.port}` })
  const now = yield* Clock.currentTimeMillis
  yield* sql`INSERT INTO plexi_node_releases (node, node_id, package_version, protocol_version, started_at)
    VALUES (${node}, ${nodeId}, ${PACKAGE_VERSION}, ${PROTOCOL_VERSION}, ${now})
    ON CONFLICT (node) DO UPDATE SET node_id = EXCLUDED.node_id, package_version = EXCLUDED.package_version,
      protocol_version = EXCLUDED.protocol_version, started_at = EXCLUDED.started_at`
  yield* Effect.logInfo("release recorded", { node, packageVersion: PACKAGE_VERSION, protocolVersion: PROTOCOL_VERSION })
}))
