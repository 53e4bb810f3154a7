/**
 * What the health endpoint reports about the node it runs on; the runtime
 * provides it, since only the runtime knows its engine, store and shards.
 */
import { Context, type Effect } from "effect"
import type { Health } from "../../domain/Http.ts"
import type { ChannelId } from "../../domain/Ids.ts"

export class NodeStatus extends Context.Tag("plexichat/NodeStatus")<NodeStatus, {
  readonly health: Effect.Effect<Health>
  /** The channel's shard and whether this node holds it. */
  readonly locate: (channelId: ChannelId) => Effect.Effect<{ readonly shard: string; readonly ownedHere: boolean }>
  /** Shards of the cluster (`PLEXI_SHARDS_PER_GROUP`). */
  readonly shardsTotal: number
  /** This runner's advertised address (`host:port`, as in `cluster_runners`); undefined on a single node. */
  readonly runnerAddress: string | undefined
}>() {}
