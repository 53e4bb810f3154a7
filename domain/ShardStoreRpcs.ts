/**
 * One node's backup shard store as the other nodes call it: served on the runner socket next to the cluster's own
 * runner protocol (runtime/cluster/ShardStoreServer.ts), so it is reachable only where entity calls are, on the
 * cluster's runner network and never on the public port. Each call acts on this node's directory alone; placement
 * and replication are the caller's (src/backup/store/ClusterBackupShards.ts).
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { ShardInvalid, ShardMissing, ShardStoreFailed } from "./BackupShardErrors.ts"

const hash = Schema.String

/** Writes the shard (atomically) after checking `SHA-256(bytes) == hash`; a shard already held is left as it is. */
export const ShardStorePut = Rpc.make("ShardStorePut", {
  payload: { hash, bytes: Schema.Uint8ArrayFromSelf },
  error: Schema.Union(ShardInvalid, ShardStoreFailed)
})

/** The node's copy, checked against its hash; a missing or changed copy is `ShardMissing`. */
export const ShardStoreGet = Rpc.make("ShardStoreGet", {
  payload: { hash },
  success: Schema.Uint8ArrayFromSelf,
  error: Schema.Union(ShardInvalid, ShardMissing)
})

/** Whether the node has a file for the shard (not read back). */
export const ShardStoreHas = Rpc.make("ShardStoreHas", {
  payload: { hash },
  success: Schema.Boolean,
  error: Schema.Union(ShardInvalid, ShardStoreFailed)
})

/** Deletes the node's copy; a shard not held is no error. */
export const ShardStoreRemove = Rpc.make("ShardStoreRemove", {
  payload: { hash },
  error: Schema.Union(ShardInvalid, ShardStoreFailed)
})

/** Every shard the node holds a file for, in hash order. */
export const ShardStoreList = Rpc.make("ShardStoreList", {
  payload: {},
  success: hash,
  error: ShardStoreFailed,
  stream: true
})

/** Reads every shard the node holds and tells for each whether its bytes still match its hash (scrub). */
export const ShardStoreCheck = Rpc.make("ShardStoreCheck", {
  payload: {},
  success: Schema.Struct({ hash, intact: Schema.Boolean }),
  error: ShardStoreFailed,
  stream: true
})

export class ShardStoreRpcs extends RpcGroup.make(
  ShardStorePut,
  ShardStoreGet,
  ShardStoreHas,
  ShardStoreRemove,
  ShardStoreList,
  ShardStoreCheck
) {}

/** The RPC tags of the group: the runner socket gives a connection whose first request has one of them to its server. */
export const shardStoreTags: ReadonlySet<string> = new Set(ShardStoreRpcs.requests.keys())
