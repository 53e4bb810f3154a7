/**
 * The passes that keep every backup shard on R good copies:
 *
 * - **repair**: lists every live store and copies each shard held by fewer than R live nodes (a node was lost) to
 *   the nodes its ranking prefers, from a good copy;
 * - **scrub**: reads every copy on every live store and checks it against its hash; a corrupt copy is reported,
 *   deleted and written again from a good one (kept, when no good copy is left), and shards under R are then
 *   repaired as above.
 *
 * Both run on demand (`ShardMaintenance`, for the CLI and tests) and on a schedule as one cluster singleton
 * (ShardMaintenanceSchedule.ts), so that one node at a time does it.
 */
import { Chunk, Context, Effect, Layer, Stream } from "effect"
import { ShardStoreConfig } from "../store/ShardStoreConfig.ts"
import type { ShardCheck, ShardStoreNode } from "../store/ShardStoreNode.ts"
import { ShardStorePeers } from "../store/ShardStorePeers.ts"
import { type Holdings, replenish, type ReplenishReport } from "./Replenish.ts"

/** A store that could not be listed or read in this pass: its copies count as absent. */
export interface StoreUnreadable {
  readonly node: string
  readonly reason: string
}

export interface RepairReport extends ReplenishReport {
  readonly nodes: ReadonlyArray<string>
  readonly unreadable: ReadonlyArray<StoreUnreadable>
}

export interface ScrubReport extends RepairReport {
  /** Copies read and checked. */
  readonly copiesChecked: number
  /** Copies whose bytes did not match their hash (each deleted, then written again from a good copy if one is left). */
  readonly corrupt: ReadonlyArray<{ readonly hash: string; readonly node: string }>
}

export interface ShardMaintenanceShape {
  readonly repair: Effect.Effect<RepairReport>
  readonly scrub: Effect.Effect<ScrubReport>
}

export class ShardMaintenance extends Context.Tag("plexichat/ShardMaintenance")<ShardMaintenance, ShardMaintenanceShape>() {}

/** What each node answered to `read`: the readable nodes with their answers, and the unreadable ones. */
const readAll = <A>(nodes: ReadonlyArray<ShardStoreNode>, read: (node: ShardStoreNode) => Stream.Stream<A, { reason: string }>) =>
  Effect.map(
    Effect.forEach(nodes, (node) => Effect.either(Stream.runCollect(read(node))), { concurrency: "unbounded" }),
    (answers) => {
      const readable: Array<[ShardStoreNode, ReadonlyArray<A>]> = []
      const unreadable: Array<StoreUnreadable> = []
      answers.forEach((answer, i) => {
        if (answer._tag === "Right") readable.push([nodes[i]!, Chunk.toReadonlyArray(answer.right)])
        else unreadable.push({ node: nodes[i]!.id, reason: answer.left.reason })
      })
      return { readable, unreadable }
    }
  )

const hold = (holdings: Holdings, hash: string, node?: string) => {
  const holders = holdings.get(hash) ?? new Set<string>()
  holdings.set(hash, holders)
  if (node !== undefined) holders.add(node)
}

export const make = Effect.gen(function*() {
  const peers = yield* ShardStorePeers
  const { replicas } = yield* ShardStoreConfig
  const live = Effect.catchAll(peers.live, (e) => Effect.as(Effect.logWarning("backup shard maintenance: no live stores", e.reason), []))

  const repair = Effect.gen(function*() {
    const { readable, unreadable } = yield* readAll(yield* live, (node) => node.list)
    const holdings: Holdings = new Map()
    for (const [node, hashes] of readable) for (const hash of hashes) hold(holdings, hash, node.id)
    const report = yield* replenish(readable.map(([node]) => node), holdings, replicas)
    return { ...report, nodes: readable.map(([node]) => node.id), unreadable } satisfies RepairReport
  })

  const scrub = Effect.gen(function*() {
    const { readable, unreadable } = yield* readAll(yield* live, (node): Stream.Stream<ShardCheck, { reason: string }> => node.check)
    const holdings: Holdings = new Map()
    const corrupt: Array<{ hash: string; node: ShardStoreNode }> = []
    for (const [node, checks] of readable) {
      for (const { hash, intact } of checks) {
        hold(holdings, hash, intact ? node.id : undefined)
        if (!intact) corrupt.push({ hash, node })
      }
    }
    // A corrupt file must go before the copy is written again (a store keeps a file it already has); one with no
    // good copy anywhere is kept as it is, for the operator to look at (reads refuse it anyway).
    const replaceable = corrupt.filter(({ hash }) => (holdings.get(hash)?.size ?? 0) > 0)
    yield* Effect.forEach(replaceable, ({ hash, node }) =>
      Effect.catchAll(node.remove(hash), (e) => Effect.logWarning(`scrub could not delete a corrupt copy on ${node.id}`, e.reason)), { discard: true })
    const report = yield* replenish(readable.map(([node]) => node), holdings, replicas)
    const copiesChecked = readable.reduce((n, [, checks]) => n + checks.length, 0)
    return {
      ...report,
      nodes: readable.map(([node]) => node.id),
      unreadable,
      copiesChecked,
      corrupt: corrupt.map(({ hash, node }) => ({ hash, node: node.id }))
    } satisfies ScrubReport
  })

  return ShardMaintenance.of({
    repair: Effect.tap(repair, logged("repair")),
    scrub: Effect.tap(scrub, logged("scrub"))
  })
})

/**
 * A pass's outcome in the log, on one line that names every bad copy and shard: a warning when it found something
 * wrong, else info.
 */
const logged = (pass: string) => (report: RepairReport & Partial<ScrubReport>) => {
  const parts = [
    `${report.shards} shards on ${report.nodes.length} stores`,
    ...(report.copiesChecked === undefined ? [] : [`${report.copiesChecked} copies checked`]),
    ...(report.corrupt ?? []).map(({ hash, node }) => `corrupt copy of ${hash} on ${node}`),
    `${report.underReplicated} under R, ${report.copied} copies written`,
    ...report.lost.map((hash) => `shard ${hash} has no good copy left`),
    ...report.failures.map(({ hash, reason }) => `shard ${hash} still under R: ${reason}`),
    ...report.unreadable.map(({ node, reason }) => `store ${node} unreadable: ${reason}`)
  ]
  const bad = report.lost.length + report.failures.length + report.unreadable.length + (report.corrupt?.length ?? 0) + report.underReplicated
  return (bad > 0 ? Effect.logWarning : Effect.logInfo)(`backup shard ${pass}: ${parts.join("; ")}`)
}

export const layer = Layer.effect(ShardMaintenance, make)
