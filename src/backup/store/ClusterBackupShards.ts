/**
 * `BackupShards` across the cluster: each shard goes to R distinct live nodes (PLEXI_BACKUP_REPLICAS, default 2),
 * chosen by rendezvous hashing over the live runners (Rendezvous.ts). A node that fails a write is replaced by the
 * next in the shard's ranking; each receiving store checks `SHA-256(bytes) == hash` before its atomic write, so the
 * placement names only copies that were checked and written. A read takes the first copy, in ranking order and then
 * from any other live node, whose bytes match the hash. With fewer live nodes than R (a single node), a shard gets
 * as many copies as there are nodes, and a warning says so.
 */
import { createHash } from "node:crypto"
import { Effect, Layer, Stream } from "effect"
import { ShardInvalid, ShardMissing, ShardStoreFailed } from "../../../domain/BackupShardErrors.ts"
import { BackupShards, type BackupShardsService, isShardHash, type ShardPlacement } from "./BackupShards.ts"
import { rankFor } from "./Rendezvous.ts"
import { ShardStoreConfig } from "./ShardStoreConfig.ts"
import type { ShardStoreNode } from "./ShardStoreNode.ts"
import { ShardStorePeers, type ShardStorePeersShape } from "./ShardStorePeers.ts"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const checked = (hash: string): Effect.Effect<string, ShardInvalid> =>
  isShardHash(hash) ? Effect.succeed(hash) : Effect.fail(new ShardInvalid({ hash: String(hash), reason: "not 64 lower-case hex digits" }))

/** The live stores, at least one. */
const liveStores = (peers: ShardStorePeersShape, hash: string) =>
  Effect.filterOrFail(peers.live, (nodes) => nodes.length > 0, () => new ShardStoreFailed({ hash, reason: "no live shard store" }))

/**
 * Deletes the shard on every registered node (a live one, and one whose heartbeat is late); fails only when a live
 * node could not delete it (a node that is down keeps its copy until a later removal).
 */
const removeEverywhere = (peers: ShardStorePeersShape, hash: string) =>
  Effect.gen(function*() {
    const live = new Set((yield* liveStores(peers, hash)).map((node) => node.id))
    const nodes = yield* Effect.orElseSucceed(peers.registered, () => [])
    const answers = yield* Effect.forEach(nodes, (node) => Effect.either(node.remove(hash)), { concurrency: "unbounded" })
    const failed = answers.flatMap((a, i) => (a._tag === "Left" && live.has(nodes[i]!.id) ? [a.left.reason] : []))
    if (failed.length > 0) return yield* new ShardStoreFailed({ hash, reason: failed.join("; ") })
  })

/**
 * Puts the shard on `wanted` of `ranked`, in ranking order, each failed node replaced by the next one; the nodes
 * that hold a checked copy, and the reasons of those that failed.
 */
export const placeOn = (ranked: ReadonlyArray<ShardStoreNode>, wanted: number, hash: string, bytes: Uint8Array) =>
  Effect.gen(function*() {
    const placed: Array<string> = []
    const failures: Array<string> = []
    let next = 0
    while (placed.length < wanted && next < ranked.length) {
      const batch = ranked.slice(next, next + wanted - placed.length)
      next += batch.length
      const results = yield* Effect.forEach(batch, (node) => Effect.either(node.put(hash, bytes)), { concurrency: "unbounded" })
      results.forEach((result, i) => {
        if (result._tag === "Right") placed.push(batch[i]!.id)
        else failures.push(result.left.reason)
      })
    }
    return { placed, failures }
  })

/** The first copy of `hash`, among `nodes` in order, whose bytes match it; else ShardMissing with every node's reason. */
export const firstGoodCopy = (nodes: ReadonlyArray<ShardStoreNode>, hash: string) =>
  Effect.gen(function*() {
    const reasons: Array<string> = []
    for (const node of nodes) {
      const got = yield* Effect.either(node.get(hash))
      if (got._tag === "Right" && sha256(got.right) === hash) return got.right
      reasons.push(got._tag === "Left" ? got.left.reason : `${node.id}: the copy does not match its hash`)
    }
    return yield* new ShardMissing({
      hash,
      reason: reasons.length === 0 ? "no live shard store" : `no good copy of shard ${hash}: ${reasons.join("; ")}`
    })
  })

export const make = Effect.gen(function*() {
  const peers = yield* ShardStorePeers
  const { replicas } = yield* ShardStoreConfig
  const store = (hash: string, bytes: Uint8Array): Effect.Effect<ShardPlacement, ShardInvalid | ShardStoreFailed> =>
    Effect.gen(function*() {
      yield* checked(hash)
      if (sha256(bytes) !== hash) return yield* new ShardInvalid({ hash, reason: "bytes do not match the hash" })
      const nodes = yield* liveStores(peers, hash)
      const wanted = Math.min(replicas, nodes.length)
      const { failures, placed } = yield* placeOn(rankFor(hash, nodes), wanted, hash, bytes)
      if (placed.length === 0) return yield* new ShardStoreFailed({ hash, reason: failures.join("; ") })
      if (placed.length < replicas) {
        yield* Effect.logWarning(
          nodes.length === 1
            ? `backup shard ${hash} stored on 1 node only (one live shard store; ${replicas} replicas wanted)`
            : `backup shard ${hash} stored on ${placed.length} of ${replicas} wanted nodes (${nodes.length} live)`
          + (failures.length > 0 ? `: ${failures.join("; ")}` : "")
        )
      }
      return { hash, replicas: placed, wanted: replicas }
    })
  const service: BackupShardsService = {
    store,
    retrieve: (hash) =>
      checked(hash).pipe(
        Effect.zipRight(Effect.catchAll(peers.live, () => Effect.succeed([]))),
        Effect.flatMap((nodes) => firstGoodCopy(rankFor(hash, nodes), hash))
      ),
    has: (hash) =>
      Effect.gen(function*() {
        yield* checked(hash)
        const answers = yield* Effect.forEach(rankFor(hash, yield* liveStores(peers, hash)), (node) => Effect.either(node.has(hash)))
        if (answers.some((a) => a._tag === "Right" && a.right)) return true
        const failed = answers.flatMap((a) => (a._tag === "Left" ? [a.left.reason] : []))
        if (failed.length > 0) return yield* new ShardStoreFailed({ hash, reason: failed.join("; ") })
        return false
      }),
    remove: (hash) => Effect.zipRight(checked(hash), removeEverywhere(peers, hash)),
    list: Stream.unwrap(Effect.map(peers.live, (nodes) =>
      Stream.fromIterableEffect(Effect.map(
        Effect.forEach(nodes, (node) => Stream.runCollect(node.list), { concurrency: "unbounded" }),
        (lists) => Array.from(new Set(lists.flatMap((chunk) => Array.from(chunk)))).sort()
      ))))
  }
  return service
})

/** `BackupShards` over the live nodes' stores (`ShardStorePeers`), R from `ShardStoreConfig`. */
export const layer = Layer.effect(BackupShards, make)
