/**
 * What the health and readiness endpoints report about the node they run on;
 * the runtime provides it, since only the runtime knows its engine, store,
 * shards and lifecycle.
 */
import { Context, type Effect } from "effect"
import type { Health } from "../../domain/Http.ts"
import type { ChannelId } from "../../domain/Ids.ts"
import type { NotReady, Readiness } from "../../domain/Readiness.ts"

export class NodeStatus extends Context.Tag("plexichat/NodeStatus")<NodeStatus, {
  readonly health: Effect.Effect<Health>
  /** Ready for traffic, or why not (draining, database unreachable, no shards). */
  readonly ready: Effect.Effect<Readiness, NotReady>
  /** The channel's shard and whether this node holds it. */
  readonly locate: (channelId: ChannelId) => Effect.Effect<{ readonly shard: string; readonly ownedHere: boolean }>
  /** Shards of the cluster (`PLEXI_SHARDS_PER_GROUP`). */
  readonly shardsTotal: number
  /** This runner's advertised address (`host:port`, as in `cluster_runners`); undefined on a single node. */
  readonly runnerAddress: string | undefined
}>() {}
