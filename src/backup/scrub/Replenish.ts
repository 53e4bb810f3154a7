/**
 * Copies every shard held by fewer than R live nodes (a node lost, or a corrupt copy removed by scrub) from one of
 * its good copies to the highest-ranked live nodes that lack it, until R nodes hold it (or every live node does).
 */
import { Effect } from "effect"
import { firstGoodCopy, placeOn } from "../store/ClusterBackupShards.ts"
import { rankFor } from "../store/Rendezvous.ts"
import type { ShardStoreNode } from "../store/ShardStoreNode.ts"

/** For each shard, the ids of the live nodes that hold a good copy (possibly none). */
export type Holdings = Map<string, Set<string>>

export interface ReplenishReport {
  /** Shards known to at least one live store. */
  readonly shards: number
  /** Shards that had fewer than R good copies when the pass began. */
  readonly underReplicated: number
  /** Copies written. */
  readonly copied: number
  /** Shards that no live store holds a good copy of: nothing to repair them from. */
  readonly lost: ReadonlyArray<string>
  /** Shards still under R when the pass ended, with why. */
  readonly failures: ReadonlyArray<{ readonly hash: string; readonly reason: string }>
}

export const replenish = (nodes: ReadonlyArray<ShardStoreNode>, holdings: Holdings, replicas: number) =>
  Effect.gen(function*() {
    const want = Math.min(replicas, nodes.length)
    const short = Array.from(holdings).filter(([, holders]) => holders.size < want).sort(([a], [b]) => (a < b ? -1 : 1))
    const lost: Array<string> = []
    const failures: Array<{ hash: string; reason: string }> = []
    let copied = 0
    yield* Effect.forEach(short, ([hash, holders]) => {
      if (holders.size === 0) return Effect.sync(() => lost.push(hash))
      const ranked = rankFor(hash, nodes)
      return firstGoodCopy(ranked.filter((n) => holders.has(n.id)), hash).pipe(
        Effect.flatMap((bytes) => placeOn(ranked.filter((n) => !holders.has(n.id)), want - holders.size, hash, bytes)),
        Effect.map(({ failures: why, placed }) => {
          copied += placed.length
          if (holders.size + placed.length < want) failures.push({ hash, reason: why.join("; ") || "too few live nodes" })
        }),
        Effect.catchAll((missing) => Effect.sync(() => failures.push({ hash, reason: missing.reason })))
      )
    }, { concurrency: 4, discard: true })
    return { shards: holdings.size, underReplicated: short.length, copied, lost, failures } satisfies ReplenishReport
  })
