/**
 * The shard stores of the live nodes: the contract between the cluster's shard placement (ClusterBackupShards.ts,
 * the repair and scrub passes) and the runner network that reaches them (runtime/cluster/ShardStorePeers.ts). A
 * single embedded node has one, its own.
 */
import { Context, type Effect } from "effect"
import type { ShardStoreFailed } from "../../../domain/BackupShardErrors.ts"
import type { ShardStoreNode } from "./ShardStoreNode.ts"

export interface ShardStorePeersShape {
  /** The stores of the runners live now (this node's own among them while it is live), each once. */
  readonly live: Effect.Effect<ReadonlyArray<ShardStoreNode>, ShardStoreFailed>
  /**
   * The stores of every runner the cluster has registered, live or not: a removal also tries a node whose heartbeat
   * is late (under load it drops out of `live` for a moment, and would keep a copy a removal meant to delete).
   */
  readonly registered: Effect.Effect<ReadonlyArray<ShardStoreNode>, ShardStoreFailed>
}

export class ShardStorePeers extends Context.Tag("plexichat/ShardStorePeers")<ShardStorePeers, ShardStorePeersShape>() {}
