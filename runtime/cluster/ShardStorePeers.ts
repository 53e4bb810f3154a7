/**
 * The shard stores of the live nodes (`ShardStorePeers`) and this node's own (`LocalShardStore`).
 *
 * - On Postgres the live nodes are the cluster's live runners, as the library reads them from its runner storage
 *   (`cluster_runners`, heartbeat within the lock expiration, healthy). This node's own store is used directly;
 *   another node's is reached over the runner socket (ShardStoreClient.ts), one RPC client per runner kept while it
 *   is used, through the same connections the reaper cuts when a runner leaves (RunnerConnections.ts).
 * - A single embedded node has only its own store.
 *
 * A store is named by its runner address (`host:port`), `"local"` on a single node.
 */
import { RunnerAddress, RunnerStorage } from "@effect/cluster"
import * as Socket from "@effect/platform/Socket"
import { RpcClient, RpcSerialization } from "@effect/rpc"
import { Effect, Layer, Option, RcMap } from "effect"
import { ShardStoreFailed } from "../../domain/BackupShardErrors.ts"
import { ShardStoreRpcs } from "../../domain/ShardStoreRpcs.ts"
import { shardDir, ShardStoreConfig } from "../../src/backup/store/ShardStoreConfig.ts"
import { LocalShardStore, localShardStoreNode } from "../../src/backup/store/ShardStoreNode.ts"
import { ShardStorePeers, type ShardStorePeersShape } from "../../src/backup/store/ShardStorePeers.ts"
import { DatabaseConfig } from "../sql/DatabaseConfig.ts"
import { RunnerConnections } from "./RunnerConnections.ts"
import { RunnerSocket } from "./RunnerSocket.ts"
import { runnerName } from "./ShardHolders.ts"
import { remoteShardStore } from "./ShardStoreClient.ts"

/** This node's directory, named by its runner address (`"local"` without a runner socket). */
export const localLayer = Layer.effect(LocalShardStore, Effect.gen(function*() {
  const config = yield* ShardStoreConfig
  const { dataDir } = yield* DatabaseConfig
  const socket = yield* RunnerSocket
  const id = Option.match(socket, { onNone: () => "local", onSome: ({ address }) => runnerName(address) })
  return localShardStoreNode(shardDir(config, dataDir), id)
}))

/** The RPC client of the shard store at `host:port`, over a runner connection. */
const connect = (key: string) =>
  Effect.gen(function*() {
    const connections = yield* RunnerConnections
    const at = key.lastIndexOf(":")
    const socket = yield* connections.open(RunnerAddress.make(key.slice(0, at), Number(key.slice(at + 1))))
    const protocol = yield* RpcClient.makeProtocolSocket().pipe(Effect.provideService(Socket.Socket, socket))
    return yield* RpcClient.make(ShardStoreRpcs).pipe(Effect.provideService(RpcClient.Protocol, protocol))
  })

/**
 * The peers of a runner on Postgres: the live runners' stores, this node's own (`LocalShardStore`, when there is
 * one: a process that is no runner, such as a test, has none) used directly.
 */
export const makeClusterPeers = Effect.gen(function*() {
  const local = yield* Effect.serviceOption(LocalShardStore)
  const runners = yield* RunnerStorage.RunnerStorage
  const { callTimeout } = yield* ShardStoreConfig
  const context = yield* Effect.context<RunnerConnections | RpcSerialization.RpcSerialization>()
  const clients = yield* RcMap.make({
    lookup: (key: string) => Effect.provide(connect(key), context),
    idleTimeToLive: "1 minute"
  })
  const remote = (key: string) =>
    remoteShardStore(key, RcMap.get(clients, key), RcMap.invalidate(clients, key), callTimeout)
  const stores = (liveOnly: boolean) =>
    runners.getRunners.pipe(
      Effect.mapError((e) => new ShardStoreFailed({ hash: "*", reason: `reading the live runners: ${String(e)}` })),
      Effect.map((all) =>
        all.filter(([, healthy]) => healthy || !liveOnly).map(([runner]) => runnerName(runner.address)).sort().map((key) =>
          Option.isSome(local) && key === local.value.id ? local.value : remote(key)))
    )
  return ShardStorePeers.of({ live: stores(true), registered: stores(false) })
})

/** The peers of a single embedded node: its own store alone. */
export const singleLayer = Layer.effect(
  ShardStorePeers,
  Effect.map(LocalShardStore, (local): ShardStorePeersShape => ({ live: Effect.succeed([local]), registered: Effect.succeed([local]) }))
)

export const clusterLayer = Layer.scoped(ShardStorePeers, makeClusterPeers)
