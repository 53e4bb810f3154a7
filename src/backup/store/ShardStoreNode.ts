/**
 * One node's shard store as the cluster's shard placement sees it: this node's own directory, or another node's
 * reached over the runner network (runtime/cluster/ShardStorePeers.ts). Each operation acts on that one store.
 */
import { Context, Effect, Stream } from "effect"
import type { ShardInvalid, ShardMissing, ShardStoreFailed } from "../../../domain/BackupShardErrors.ts"
import { makeLocalShardDirectory } from "./LocalShardDirectory.ts"

/** Whether one stored copy still matches its hash. */
export interface ShardCheck {
  readonly hash: string
  readonly intact: boolean
}

export interface ShardStoreNode {
  /** The node's runner address (`host:port`), or `"local"` on a single embedded node. */
  readonly id: string
  readonly put: (hash: string, bytes: Uint8Array) => Effect.Effect<void, ShardInvalid | ShardStoreFailed>
  /** The node's copy, checked against its hash. An unreachable node is `ShardMissing` too (naming the node). */
  readonly get: (hash: string) => Effect.Effect<Uint8Array, ShardInvalid | ShardMissing>
  readonly has: (hash: string) => Effect.Effect<boolean, ShardInvalid | ShardStoreFailed>
  readonly remove: (hash: string) => Effect.Effect<void, ShardInvalid | ShardStoreFailed>
  /** Every shard the node holds a file for, in hash order. */
  readonly list: Stream.Stream<string, ShardStoreFailed>
  /** Every shard the node holds, each read and checked against its hash (scrub). */
  readonly check: Stream.Stream<ShardCheck, ShardStoreFailed>
}

/** The store of the directory `dir` on this node, named `id`. */
export const localShardStoreNode = (dir: string, id: string): ShardStoreNode => {
  const local = makeLocalShardDirectory(dir, id)
  return {
    id,
    put: (hash, bytes) => Effect.asVoid(local.store(hash, bytes)),
    get: local.retrieve,
    has: local.has,
    remove: local.remove,
    list: local.list,
    check: Stream.mapEffect(local.list, (hash) =>
      local.retrieve(hash).pipe(
        Effect.as<ShardCheck>({ hash, intact: true }),
        Effect.catchAll(() => Effect.succeed<ShardCheck>({ hash, intact: false }))
      ))
  }
}

/** This node's own shard store (its directory), the one it serves to the other nodes. */
export class LocalShardStore extends Context.Tag("plexichat/LocalShardStore")<LocalShardStore, ShardStoreNode>() {}
