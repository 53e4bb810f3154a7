/**
 * When this node stops holding a shard: its entities' follower streams end
 * then, instead of holding the shard's hand-over for the whole
 * `PLEXI_ENTITY_TERMINATION_TIMEOUT`.
 *
 * A stopping entity waits for its open requests before its shard is
 * released (the cluster library's termination wait). A Channel's follower
 * streams (`Subscribe` from the edges of other nodes) never end on their own,
 * so a shard moving to a joining node, or leaving a node on SIGTERM, waited
 * the whole timeout (3 s), and posts to its channels with it. The library
 * takes a shard out of the held set (`Sharding.hasShardId` false) before it
 * stops the shard's entities, both when the ring gives the shard to another
 * runner and when the node shuts down (preemptive shutdown, the default), so
 * one node-wide fiber polls the held set for the shards that have streams
 * open (only while there are any) and ends those streams; their edges reopen their feeds from their last
 * `seq` at the shard's next owner. Nothing is lost: a feed resumes from its
 * `lastSeq`.
 *
 * The default (no `layer` provided, as in the in-memory test cluster) never
 * ends a stream.
 */
import { Sharding, type ShardId } from "@effect/cluster"
import { Context, Deferred, Effect, FiberId, Layer } from "effect"

export interface ShardReleaseShape {
  /** Completes once this node no longer holds `shardId` (at once when it does not hold it now). */
  readonly released: (shardId: ShardId.ShardId) => Effect.Effect<void>
}

export class ShardRelease extends Context.Reference<ShardRelease>()("plexichat/ShardRelease", {
  defaultValue: (): ShardReleaseShape => ({ released: () => Effect.never })
}) {
  /** How often the held set is compared with the watched shards. */
  static readonly pollMs = 25

  /** The node's watcher, on the running `Sharding`. */
  static readonly layer = Layer.scoped(ShardRelease, Effect.gen(function*() {
    const sharding = yield* Sharding.Sharding
    const watched = new Map<string, { readonly shardId: ShardId.ShardId; readonly done: Deferred.Deferred<void> }>()
    const scope = yield* Effect.scope
    /** Whether a sweep loop runs; it runs only while some shard is watched, so an idle node has no timer for it. */
    let polling = false
    /** Ends the streams of released shards; answers whether any shard is still watched (if not, the loop stops). */
    const sweep = Effect.suspend(() => {
      const ended: Array<string> = []
      for (const [key, { done, shardId }] of watched) {
        if (sharding.hasShardId(shardId)) continue
        watched.delete(key)
        ended.push(key)
        Deferred.unsafeDone(done, Effect.void)
      }
      polling = watched.size > 0
      return Effect.as(ended.length === 0 ? Effect.void : Effect.logDebug("follower streams ended: shards released", ended), polling)
    })
    const loop = Effect.repeat(Effect.zipRight(Effect.sleep(ShardRelease.pollMs), sweep), { while: (more) => more })
    return {
      released: (shardId) =>
        Effect.suspend(() => {
          if (!sharding.hasShardId(shardId)) return Effect.void
          const key = shardId.toString()
          let entry = watched.get(key)
          if (entry === undefined) {
            entry = { shardId, done: Deferred.unsafeMake<void>(FiberId.none) }
            watched.set(key, entry)
          }
          if (polling) return Deferred.await(entry.done)
          polling = true
          return Effect.zipRight(Effect.forkIn(loop, scope), Deferred.await(entry.done))
        })
    }
  }))
}
