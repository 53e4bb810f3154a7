/**
 * Whom a Channel entity's claims must name as the holder of its shard.
 *
 * On a cluster of socket runners, the runner that takes a shard's advisory
 * lock records itself in `plexi_shard_holders` (runtime/cluster/ShardHolders.ts)
 * before any entity of that shard runs there, and a claim of a channel (a new
 * fencing epoch) or the creation of one succeeds only while that row still
 * names this runner. So a runner that lost the shard without noticing yet (it
 * was stalled, and another runner took over) can no longer claim the channel
 * back from its new owner. A single runner holds every shard: its claims check
 * nothing.
 */
import { Context, Layer, Option } from "effect"

export class ShardHolding extends Context.Tag("plexichat/ShardHolding")<ShardHolding, {
  /** This runner's name in `plexi_shard_holders`; none on a single runner. */
  readonly runner: Option.Option<string>
}>() {
  /** A single runner: every shard is its own. */
  static readonly sole = Layer.succeed(this, { runner: Option.none() })
  /** One runner of a cluster, named `runner` in `plexi_shard_holders`. */
  static readonly named = (runner: string) => Layer.succeed(this, { runner: Option.some(runner) })
}
