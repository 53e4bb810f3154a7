/**
 * The cluster settings of a node (runner address, shards, lock and refresh
 * intervals), in the `ShardingConfig` style: a tag, a `config` read from the
 * environment, `layer(options)` and `layerFromEnv`. A value that cannot work
 * (a port outside 0–65535, no shards, a zero interval) is a start-up error
 * that names its variable.
 *
 * The defaults are tuned for failover within ~3 s (docs/OPERATIONS.md,
 * "Failover and stalls", has the measurements and the database cost).
 */
import { Config, ConfigProvider, Context, Duration, Effect, Layer, Option } from "effect"
import { port, positiveDuration } from "../../src/config/Settings.ts"

export interface ClusterConfigShape {
  /** The host other runners reach this one on (advertised in `cluster_runners`). */
  readonly runnerHost: string
  readonly runnerListenHost: string
  /** 0: the OS chooses a free port, and the runner advertises the port it got. */
  readonly runnerPort: number
  readonly shardsPerGroup: number
  readonly shardLockExpiration: Duration.Duration
  readonly shardLockRefresh: Duration.Duration
  readonly assignmentRefresh: Duration.Duration
  readonly entityTerminationTimeout: Duration.Duration
  readonly runnerReapInterval: Duration.Duration
  /** Where the node writes `{"port":…,"runnerPort":…}` once it listens (supervisors and tests that start nodes on port 0). */
  readonly portFile: Option.Option<string>
}

/** The default runner port: below Linux's ephemeral range (32768–60999), where outgoing connections take ports. */
export const defaultRunnerPort = 24431

export const config: Config.Config<ClusterConfigShape> = Config.all({
  runnerHost: Config.string("PLEXI_RUNNER_HOST").pipe(
    Config.withDefault("127.0.0.1"),
    Config.withDescription("Host other runners reach this runner on (advertised; in compose, the container's name or IP).")
  ),
  runnerListenHost: Config.string("PLEXI_RUNNER_LISTEN_HOST").pipe(Config.withDefault("0.0.0.0")),
  runnerPort: port(
    "PLEXI_RUNNER_PORT",
    defaultRunnerPort,
    "Runner TCP port (node-to-node entity calls); 0 lets the OS choose and advertises the chosen port."
  ),
  shardsPerGroup: Config.integer("PLEXI_SHARDS_PER_GROUP").pipe(
    Config.withDefault(100),
    Config.validate({ message: "PLEXI_SHARDS_PER_GROUP must be a whole number of shards from 1 to 100000", validation: (n) => n >= 1 && n <= 100_000 }),
    Config.withDescription("Shards of the cluster; every node of one cluster must use the same value.")
  ),
  shardLockExpiration: positiveDuration(
    "PLEXI_SHARD_LOCK_EXPIRATION",
    Duration.seconds(2),
    "A runner whose heartbeat is older than this is taken out of the ring; older than this plus two heartbeat intervals, its database sessions are ended (stall fencing)."
  ),
  shardLockRefresh: positiveDuration(
    "PLEXI_SHARD_LOCK_REFRESH",
    Duration.millis(500),
    "Heartbeat and shard-lock refresh interval (the cluster uses at most a third of the expiration)."
  ),
  assignmentRefresh: positiveDuration(
    "PLEXI_ASSIGNMENT_REFRESH",
    Duration.millis(500),
    "How often a runner re-reads the runner list and recomputes the shard assignment."
  ),
  entityTerminationTimeout: positiveDuration(
    "PLEXI_ENTITY_TERMINATION_TIMEOUT",
    Duration.seconds(3),
    "How long a stopping entity waits for its open requests (e.g. follower streams) before they are cut."
  ),
  runnerReapInterval: positiveDuration(
    "PLEXI_RUNNER_REAP_INTERVAL",
    Duration.millis(500),
    "How often a runner looks for dead runners (no database session left) and stalled ones (heartbeat older than the expiration)."
  ),
  portFile: Config.option(Config.string("PLEXI_PORT_FILE")).pipe(
    Config.withDescription("Where the node writes {\"port\":…,\"runnerPort\":…} as JSON once it listens (for nodes started on port 0).")
  )
})

export class ClusterConfig extends Context.Tag("plexichat/ClusterConfig")<ClusterConfig, ClusterConfigShape>() {}

/** The defaults (not the environment), overridden by `options`. */
export const layer = (options: Partial<ClusterConfigShape> = {}) =>
  Layer.effect(
    ClusterConfig,
    Effect.map(
      Effect.orDie(Effect.withConfigProvider(config, ConfigProvider.fromMap(new Map()))),
      (defaults) => ({ ...defaults, ...options })
    )
  )

/** Read from the environment; an invalid value stops the node with the variable's name. */
export const layerFromEnv = Layer.effect(ClusterConfig, Effect.orDie(config))
