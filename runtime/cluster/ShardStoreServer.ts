/**
 * This node's shard store served to the other nodes (domain/ShardStoreRpcs.ts) on its side of the runner socket
 * (SplitProtocol.ts): reachable on the runner port only, like entity calls, never on the public port.
 */
import { RpcServer } from "@effect/rpc"
import { Effect, Layer } from "effect"
import { ShardStoreRpcs } from "../../domain/ShardStoreRpcs.ts"
import { LocalShardStore } from "../../src/backup/store/ShardStoreNode.ts"

const handlers = ShardStoreRpcs.toLayer(Effect.map(LocalShardStore, (store) => ({
  ShardStorePut: ({ bytes, hash }) => store.put(hash, bytes),
  ShardStoreGet: ({ hash }) => store.get(hash),
  ShardStoreHas: ({ hash }) => store.has(hash),
  ShardStoreRemove: ({ hash }) => store.remove(hash),
  ShardStoreList: () => store.list,
  ShardStoreCheck: () => store.check
})))

/** The server; needs the shard store side of the split runner protocol as its `RpcServer.Protocol`. */
export const layer = RpcServer.layer(ShardStoreRpcs, { spanPrefix: "ShardStore", disableTracing: true }).pipe(Layer.provide(handlers))
