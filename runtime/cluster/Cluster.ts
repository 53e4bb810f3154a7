/**
 * The cluster runner a node joins.
 *
 * - With Postgres: a socket runner with SQL runner and message storage in the
 *   same database, shard locks tuned so that a killed node's shards move
 *   within seconds (see docs/OPERATIONS.md).
 * - Embedded (PGlite): a single runner with in-memory runner storage, so no
 *   advisory-lock connection is needed.
 *
 * Every address is passed explicitly: the library would otherwise read the
 * public `PORT`/`HOST` from the environment.
 *
 * The socket transport is `NodeClusterSocket`'s, with one change: runner
 * sockets set TCP_NODELAY. A cross-node `Subscribe` stream acknowledges every
 * chunk with a small message, and under Nagle's algorithm plus delayed ACKs
 * each of those round trips took ~40 ms, so live messages crossed nodes
 * ~90 ms late (measured; see docs/BENCHMARKS.md).
 */
import {
  RunnerAddress,
  RunnerHealth,
  Runners,
  ShardingConfig,
  SingleRunner,
  SocketRunner,
  SqlMessageStorage,
  SqlRunnerStorage
} from "@effect/cluster"
import { Socket } from "@effect/platform"
import { NodeSocket, NodeSocketServer } from "@effect/platform-node"
import { RpcClient, RpcSerialization } from "@effect/rpc"
import { Effect, Layer, Option } from "effect"
import { PlexiConfig, type PlexiConfigShape } from "../Config.ts"

export const shardingConfig = (config: PlexiConfigShape): Partial<ShardingConfig.ShardingConfig["Type"]> => ({
  runnerAddress: Option.some(RunnerAddress.make(config.runnerHost, config.runnerPort)),
  runnerListenAddress: Option.some(RunnerAddress.make(config.runnerListenHost, config.runnerPort)),
  shardsPerGroup: config.shardsPerGroup,
  shardLockExpiration: config.shardLockExpiration,
  shardLockRefreshInterval: config.shardLockRefresh,
  refreshAssignmentsInterval: config.assignmentRefresh,
  entityTerminationTimeout: config.entityTerminationTimeout,
  availableShardGroups: ["default"],
  assignedShardGroups: ["default"],
  // Calls to entities on this node skip the encode/decode round trip (measured: ~7% less CPU per ingested
  // message). Calls between nodes are serialized as always, and the unit tests keep the simulation on.
  simulateRemoteSerialization: false
})

/** Outgoing runner connections, with TCP_NODELAY. */
const ClientProtocolNoDelay = Layer.effect(
  Runners.RpcClientProtocol,
  Effect.map(RpcSerialization.RpcSerialization, (serialization) =>
    Effect.fnUntraced(function*(address: RunnerAddress.RunnerAddress) {
      const socket = yield* NodeSocket.makeNet({
        openTimeout: 1000,
        timeout: 5500,
        host: address.host,
        port: address.port,
        noDelay: true
      })
      return yield* RpcClient.makeProtocolSocket().pipe(
        Effect.provideService(Socket.Socket, socket),
        Effect.provideService(RpcSerialization.RpcSerialization, serialization)
      )
    }, Effect.orDie))
)

/** The runner's listening socket, with TCP_NODELAY on accepted connections. */
const SocketServerNoDelay = Layer.unwrapEffect(Effect.map(ShardingConfig.ShardingConfig, (config) => {
  const address = Option.getOrThrow(Option.orElse(config.runnerListenAddress, () => config.runnerAddress))
  return NodeSocketServer.layer({ host: address.host, port: address.port, noDelay: true })
}))

/** `NodeClusterSocket.layer({ storage: "sql" })`, with the no-delay transport. */
const socketRunner = (config: Partial<ShardingConfig.ShardingConfig["Type"]>) =>
  SocketRunner.layer.pipe(
    Layer.provide([SocketServerNoDelay, ClientProtocolNoDelay]),
    Layer.provide(RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(ClientProtocolNoDelay))),
    Layer.provideMerge(Layer.orDie(SqlMessageStorage.layer)),
    Layer.provide(Layer.orDie(SqlRunnerStorage.layer)),
    Layer.provide(ShardingConfig.layer(config)),
    Layer.provide(RpcSerialization.layerMsgPack)
  )

export const layer = Layer.unwrapEffect(Effect.map(PlexiConfig, (config) =>
  Option.isSome(config.databaseUrl)
    ? Layer.orDie(socketRunner(shardingConfig(config)))
    : Layer.orDie(SingleRunner.layer({ runnerStorage: "memory", shardingConfig: shardingConfig(config) }))
))
