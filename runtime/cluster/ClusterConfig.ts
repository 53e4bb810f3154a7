/**
 * The cluster settings of a node (runner address, shards, lock and refresh
 * intervals), in the `ShardingConfig` style: a tag, `defaults`, a `config`
 * read from the environment, `layer(options)` and `layerFromEnv(options)`. A
 * value that cannot work (a port outside 0–65535, no shards, a zero interval,
 * an empty host) is a start-up error that names its variable.
 *
 * The defaults are tuned for failover within ~3 s (docs/OPERATIONS.md,
 * "Failover and stalls", has the measurements and the database cost).
 */
import { Config, Context, Duration, Option } from "effect"
import { configLayers } from "../../src/config/ConfigLayers.ts"
import { optionalText, port, positiveDuration, text } from "../../src/config/Settings.ts"

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

export class ClusterConfig extends Context.Tag("plexichat/ClusterConfig")<ClusterConfig, ClusterConfigShape>() {}

export const defaults: ClusterConfigShape = {
  runnerHost: "127.0.0.1",
  runnerListenHost: "0.0.0.0",
  runnerPort: defaultRunnerPort,
  shardsPerGroup: 100,
  shardLockExpiration: Duration.seconds(2),
  shardLockRefresh: Duration.millis(500),
  assignmentRefresh: Duration.millis(500),
  entityTerminationTimeout: Duration.seconds(3),
  runnerReapInterval: Duration.millis(500),
  portFile: Option.none()
}

export const config: Config.Config<ClusterConfigShape> = Config.all({
  runnerHost: text(
    "PLEXI_RUNNER_HOST",
    defaults.runnerHost,
    "Host other runners reach this runner on (advertised; in compose, the container's name or IP)."
  ),
  runnerListenHost: text("PLEXI_RUNNER_LISTEN_HOST", defaults.runnerListenHost, "Interface the runner socket binds to."),
  runnerPort: port(
    "PLEXI_RUNNER_PORT",
    defaults.runnerPort,
    "Runner TCP port (node-to-node entity calls); 0 lets the OS choose and advertises the chosen port."
  ),
  shardsPerGroup: Config.integer("PLEXI_SHARDS_PER_GROUP").pipe(
    Config.validate({ message: "PLEXI_SHARDS_PER_GROUP must be a whole number of shards from 1 to 100000", validation: (n) => n >= 1 && n <= 100_000 }),
    Config.withDefault(defaults.shardsPerGroup),
    Config.withDescription("Shards of the cluster; every node of one cluster must use the same value.")
  ),
  shardLockExpiration: positiveDuration(
    "PLEXI_SHARD_LOCK_EXPIRATION",
    defaults.shardLockExpiration,
    "A runner whose heartbeat is older than this is taken out of the ring; older than this plus two heartbeat intervals, its database sessions are ended (stall fencing)."
  ),
  shardLockRefresh: positiveDuration(
    "PLEXI_SHARD_LOCK_REFRESH",
    defaults.shardLockRefresh,
    "Heartbeat and shard-lock refresh interval (the cluster uses at most a third of the expiration)."
  ),
  assignmentRefresh: positiveDuration(
    "PLEXI_ASSIGNMENT_REFRESH",
    defaults.assignmentRefresh,
    "How often a runner re-reads the runner list and recomputes the shard assignment."
  ),
  entityTerminationTimeout: positiveDuration(
    "PLEXI_ENTITY_TERMINATION_TIMEOUT",
    defaults.entityTerminationTimeout,
    "How long a stopping entity waits for its open requests (e.g. follower streams) before they are cut."
  ),
  runnerReapInterval: positiveDuration(
    "PLEXI_RUNNER_REAP_INTERVAL",
    defaults.runnerReapInterval,
    "How often a runner looks for dead runners (no database session left) and stalled ones (heartbeat older than the expiration)."
  ),
  portFile: optionalText(
    "PLEXI_PORT_FILE",
    "Where the node writes {\"port\":…,\"runnerPort\":…} as JSON once it listens (for nodes started on port 0)."
  )
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(ClusterConfig, defaults, config)
