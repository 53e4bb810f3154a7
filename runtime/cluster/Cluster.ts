/**
 * The cluster runner a node joins.
 *
 * - With Postgres: a socket runner (`NodeClusterSocket`) with SQL runner and
 *   message storage in the same database, shard locks tuned so that a killed
 *   node's shards move within seconds (see docs/OPERATIONS.md).
 * - Embedded (PGlite): a single runner with in-memory runner storage, so no
 *   advisory-lock connection is needed.
 *
 * Every address is passed explicitly: the library would otherwise read the
 * public `PORT`/`HOST` from the environment.
 */
import { RunnerAddress, ShardingConfig, SingleRunner } from "@effect/cluster"
import { NodeClusterSocket } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { PlexiConfig, type PlexiConfigShape } from "../Config.ts"

export const shardingConfig = (config: PlexiConfigShape): Partial<ShardingConfig.ShardingConfig["Type"]> => ({
  runnerAddress: Option.some(RunnerAddress.make(config.runnerHost, config.runnerPort)),
  runnerListenAddress: Option.some(RunnerAddress.make(config.runnerListenHost, config.runnerPort)),
  shardsPerGroup: config.shardsPerGroup,
  shardLockExpiration: config.shardLockExpiration,
  shardLockRefreshInterval: config.shardLockRefresh,
  refreshAssignmentsInterval: config.assignmentRefresh,
  availableShardGroups: ["default"],
  assignedShardGroups: ["default"]
})

export const layer = Layer.unwrapEffect(Effect.map(PlexiConfig, (config) =>
  Option.isSome(config.databaseUrl)
    ? NodeClusterSocket.layer({ storage: "sql", shardingConfig: shardingConfig(config) })
    : SingleRunner.layer({ runnerStorage: "memory", shardingConfig: shardingConfig(config) })
))
