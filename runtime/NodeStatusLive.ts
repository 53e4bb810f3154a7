/**
 * The node's health (liveness: what it holds, no I/O) and readiness (its
 * database answers, it holds shards, it is not draining) for `/api/v1/health`
 * and `/api/v1/ready`, and where a channel's shard lives.
 */
import { EntityId, ShardId, Sharding } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option } from "effect"
import { NotReady } from "../domain/Readiness.ts"
import { NodeStatus } from "../src/api/NodeStatus.ts"
import { ChannelHub } from "../src/messaging/ChannelHub.ts"
import { ClusterConfig } from "./cluster/ClusterConfig.ts"
import * as RunnerSocket from "./cluster/RunnerSocket.ts"
import { Draining } from "./Draining.ts"
import { NodeId, UwsApp } from "./edge/Edge.ts"
import { websocketEngine } from "./edge/Uws.ts"
import { LifecycleConfig } from "./LifecycleConfig.ts"
import { Database } from "./sql/Database.ts"
import { DatabaseConfig, onPostgres } from "./sql/DatabaseConfig.ts"

export const NodeStatusLive = Layer.effect(NodeStatus, Effect.gen(function*() {
  const store = yield* DatabaseConfig
  const { shardsPerGroup } = yield* ClusterConfig
  const { readyDbTimeout } = yield* LifecycleConfig
  const nodeId = yield* NodeId
  const sharding = yield* Sharding.Sharding
  const db = yield* Database
  const sql = yield* SqlClient.SqlClient
  const draining = yield* Draining
  const { subscriptions } = yield* UwsApp
  const hub = yield* ChannelHub
  const runner = yield* RunnerSocket.RunnerSocket
  const heldShards = () => {
    let shards = 0
    for (let i = 1; i <= shardsPerGroup; i++) if (sharding.hasShardId(ShardId.make("default", i))) shards++
    return shards
  }
  const notReady = (reason: NotReady["reason"], detail: string) => Effect.fail(new NotReady({ nodeId, reason, detail }))
  const databaseAnswers = sql`SELECT 1`.pipe(
    Effect.timeoutOption(readyDbTimeout),
    Effect.map(Option.isSome),
    Effect.catchAll(() => Effect.succeed(false))
  )
  return NodeStatus.of({
    shardsTotal: shardsPerGroup,
    runnerAddress: Option.getOrUndefined(Option.map(runner, (r) => `${r.address.host}:${r.address.port}`)),
    health: Effect.sync(() => ({
      status: "ok" as const,
      nodeId,
      websocketEngine,
      shards: heldShards(),
      connections: subscriptions.sessionCount(),
      feeds: hub.feeds(),
      database: db.kind,
      cluster: onPostgres(store) ? "multi" as const : "single" as const
    })),
    ready: Effect.gen(function*() {
      if (draining.isDraining()) return yield* notReady("draining", "the node is shutting down; use another node")
      if (!(yield* databaseAnswers)) return yield* notReady("database_unreachable", "the database did not answer SELECT 1 in time")
      const shards = heldShards()
      if (shards === 0) return yield* notReady("no_shards", "the node holds no shard yet")
      return { status: "ready" as const, nodeId, shards }
    }),
    locate: (channelId) =>
      Effect.sync(() => {
        const shardId = sharding.getShardId(EntityId.make(channelId), "default")
        return { shard: `${shardId.group}:${shardId.id}`, ownedHere: sharding.hasShardId(shardId) }
      })
  })
}))
