/**
 * The cluster runner a node joins.
 *
 * - With Postgres: a socket runner with SQL runner and message storage in the
 *   same database, shard locks tuned so that a killed node's shards move
 *   within seconds, a reaper that takes dead and stalled runners out of the
 *   ring from their database sessions (RunnerReaper.ts) and a runner storage
 *   that drops every shard when its lock session was lost
 *   (FencedRunnerStorage.ts). See docs/OPERATIONS.md.
 * - Embedded (PGlite): a single runner with in-memory runner storage, so no
 *   advisory-lock connection is needed.
 *
 * It also tells the Channel entities whom their claims must name as their
 * shard's holder (`ShardHolding`): this runner on a socket runner, nobody on
 * a single one.
 *
 * Every address is passed explicitly: the library would otherwise read the
 * public `PORT`/`HOST` from the environment. The advertised runner port is
 * the one the runner socket really got (RunnerSocket.ts).
 *
 * The runner socket also serves this node's backup shard store to the other nodes (ShardStoreServer.ts).
 *
 * The socket transport is `NodeClusterSocket`'s, with two changes: runner
 * sockets set TCP_NODELAY, and outgoing connections to a runner that left the
 * cluster are cut (RunnerConnections.ts). A cross-node `Subscribe` stream acknowledges every
 * chunk with a small message, and under Nagle's algorithm plus delayed ACKs
 * each of those round trips took ~40 ms, so live messages crossed nodes
 * ~90 ms late (measured; see docs/BENCHMARKS.md).
 */
import {
  RunnerAddress,
  RunnerHealth,
  Runners,
  RunnerServer,
  Sharding,
  ShardingConfig,
  SingleRunner,
  SqlMessageStorage
} from "@effect/cluster"
import * as SocketServer from "@effect/platform/SocketServer"
import { RpcSerialization, RpcServer } from "@effect/rpc"
import { shardStoreTags } from "../../domain/ShardStoreRpcs.ts"
import { Effect, Layer, Option } from "effect"
import { entityIdleTime } from "../../src/entities/ChannelConfig.ts"
import { ShardHolding } from "../../src/entities/ShardHolding.ts"
import { urgentLayer } from "../EventLoopScheduler.ts"
import { ClusterConfig, type ClusterConfigShape } from "./ClusterConfig.ts"
import * as FencedRunnerStorage from "./FencedRunnerStorage.ts"
import * as RunnerConnections from "./RunnerConnections.ts"
import * as RunnerReaper from "./RunnerReaper.ts"
import { RunnerSocket } from "./RunnerSocket.ts"
import { runnerName } from "./ShardHolders.ts"
import * as ShardStorePeers from "./ShardStorePeers.ts"
import * as ShardStoreServer from "./ShardStoreServer.ts"
import * as SplitProtocol from "./SplitProtocol.ts"

/** The library's settings from ours; `advertised` is the bound runner address (none: the configured one). */
export const shardingConfig = (
  config: ClusterConfigShape,
  advertised: Option.Option<RunnerAddress.RunnerAddress> = Option.none()
): Partial<ShardingConfig.ShardingConfig["Type"]> => {
  const address = Option.getOrElse(advertised, () => RunnerAddress.make(config.runnerHost, config.runnerPort))
  return {
    runnerAddress: Option.some(address),
    runnerListenAddress: Option.some(RunnerAddress.make(config.runnerListenHost, address.port)),
    shardsPerGroup: config.shardsPerGroup,
    shardLockExpiration: config.shardLockExpiration,
    shardLockRefreshInterval: config.shardLockRefresh,
    refreshAssignmentsInterval: config.assignmentRefresh,
    entityTerminationTimeout: config.entityTerminationTimeout,
    entityMaxIdleTime: entityIdleTime,
    availableShardGroups: ["default"],
    assignedShardGroups: ["default"],
    // Calls to entities on this node skip the encode/decode round trip (measured: ~7% less CPU per ingested
    // message). Calls between nodes are serialized as always, and the unit tests keep the simulation on.
    simulateRemoteSerialization: false
  }
}

/**
 * `NodeClusterSocket.layer({ storage: "sql" })` on the bound socket, with the no-delay transport and our storage;
 * the socket's RPC protocol is split (SplitProtocol.ts) between the runner server and this node's backup shard
 * store, which the other nodes reach on the runner port (ShardStoreServer.ts, ShardStorePeers.ts).
 */
const socketRunner = (server: SocketServer.SocketServer["Type"], config: Partial<ShardingConfig.ShardingConfig["Type"]>) =>
  Layer.merge(
    Layer.mergeAll(
      // `RunnerServer.layerWithClients`, with the sharding's own fibers (heartbeats, shard-lock refreshes, shard
      // acquisition, assignment reads) in the scheduler's urgent lane: a backlog of entity calls must not delay them
      // past the lock deadline. The calls themselves (RunnerServer's handlers, the entities) stay in the normal lane.
      RunnerServer.layer.pipe(
        Layer.provideMerge(urgentLayer(Sharding.layer)),
        Layer.provideMerge(Runners.layerRpc),
        Layer.provide(SplitProtocol.firstSide)
      ),
      ShardStoreServer.layer.pipe(Layer.provide(SplitProtocol.secondSide)),
      ShardStorePeers.clusterLayer
    ).pipe(
      Layer.provide(SplitProtocol.layer((tag) => shardStoreTags.has(tag)).pipe(Layer.provide(RpcServer.layerProtocolSocketServer))),
      Layer.provide([Layer.succeed(SocketServer.SocketServer, server), RunnerConnections.layerClientProtocol]),
      Layer.provide(
        RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(RunnerConnections.layerClientProtocol))
      ),
      Layer.provideMerge(Layer.orDie(SqlMessageStorage.layer)),
      Layer.provide(FencedRunnerStorage.layer),
      Layer.provide(ShardingConfig.layer(config)),
      Layer.provide(RpcSerialization.layerMsgPack)
    ),
    RunnerReaper.layer
  ).pipe(Layer.provide(RunnerConnections.layer))

export const layer = Layer.unwrapEffect(Effect.map(Effect.zip(ClusterConfig, RunnerSocket), ([config, socket]) =>
  Option.match(socket, {
    onSome: ({ address, server }) =>
      Layer.merge(Layer.orDie(socketRunner(server, shardingConfig(config, Option.some(address)))), ShardHolding.named(runnerName(address))),
    onNone: () =>
      Layer.mergeAll(
        Layer.orDie(SingleRunner.layer({ runnerStorage: "memory", shardingConfig: shardingConfig(config) })),
        ShardHolding.sole,
        ShardStorePeers.singleLayer
      )
  })
))
