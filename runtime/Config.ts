/**
 * Every setting of a PlexiChat node, read through Effect `Config` from the
 * environment. The README's configuration table lists the same names.
 *
 * The cluster library reads `HOST`/`PORT` itself when left to its own
 * devices; we pass it every address explicitly, so the public `PORT` never
 * leaks into the runner's port.
 */
import { Config, Context, Duration, Effect, Layer, LogLevel, Option, Redacted } from "effect"

export interface PlexiConfigShape {
  /** Postgres URL; none means the embedded PGlite store. */
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly dataDir: string
  readonly host: string
  readonly port: number
  readonly nodeId: Option.Option<string>
  readonly runnerHost: string
  readonly runnerListenHost: string
  readonly runnerPort: number
  readonly shardsPerGroup: number
  readonly shardLockExpiration: Duration.Duration
  readonly shardLockRefresh: Duration.Duration
  readonly assignmentRefresh: Duration.Duration
  readonly entityTerminationTimeout: Duration.Duration
  readonly devAuth: boolean
  readonly devTokenSecret: Redacted.Redacted<string>
  readonly devTokenTtl: Duration.Duration
  readonly wsMaxFrameBytes: number
  readonly wsMaxBackpressureBytes: number
  readonly wsRateLimit: number
  readonly wsRateBurst: number
  readonly wsIdleTimeoutSeconds: number
  readonly apiRateLimit: number
  readonly apiRateBurst: number
  readonly feedKeepAlive: Duration.Duration
  readonly logLevel: LogLevel.LogLevel
}

/** The built-in development secret: fine on one laptop, never for a cluster others can reach. */
export const defaultDevTokenSecret = "plexichat-development-secret-change-me"

export const config: Config.Config<PlexiConfigShape> = Config.all({
  databaseUrl: Config.option(Config.redacted("DATABASE_URL")).pipe(
    Config.withDescription("Postgres URL. Unset: an embedded PGlite store in PLEXI_DATA_DIR (single node).")
  ),
  dataDir: Config.string("PLEXI_DATA_DIR").pipe(Config.withDefault("./data")),
  host: Config.string("PLEXI_HOST").pipe(Config.withDefault("0.0.0.0")),
  port: Config.port("PORT").pipe(Config.withDefault(8080)),
  nodeId: Config.option(Config.string("PLEXI_NODE_ID")),
  runnerHost: Config.string("PLEXI_RUNNER_HOST").pipe(Config.withDefault("127.0.0.1")),
  runnerListenHost: Config.string("PLEXI_RUNNER_LISTEN_HOST").pipe(Config.withDefault("0.0.0.0")),
  runnerPort: Config.port("PLEXI_RUNNER_PORT").pipe(Config.withDefault(34431)),
  shardsPerGroup: Config.integer("PLEXI_SHARDS_PER_GROUP").pipe(Config.withDefault(100)),
  shardLockExpiration: Config.duration("PLEXI_SHARD_LOCK_EXPIRATION").pipe(Config.withDefault(Duration.seconds(6))),
  shardLockRefresh: Config.duration("PLEXI_SHARD_LOCK_REFRESH").pipe(Config.withDefault(Duration.seconds(2))),
  assignmentRefresh: Config.duration("PLEXI_ASSIGNMENT_REFRESH").pipe(Config.withDefault(Duration.seconds(1))),
  entityTerminationTimeout: Config.duration("PLEXI_ENTITY_TERMINATION_TIMEOUT").pipe(
    Config.withDefault(Duration.seconds(3)),
    Config.withDescription("How long a stopping entity waits for its open requests (e.g. follower streams) before they are cut.")
  ),
  devAuth: Config.boolean("PLEXI_DEV_AUTH").pipe(Config.withDefault(true)),
  devTokenSecret: Config.redacted("PLEXI_DEV_TOKEN_SECRET").pipe(
    Config.withDefault(Redacted.make(defaultDevTokenSecret))
  ),
  devTokenTtl: Config.duration("PLEXI_DEV_TOKEN_TTL").pipe(Config.withDefault(Duration.hours(12))),
  wsMaxFrameBytes: Config.integer("PLEXI_WS_MAX_FRAME_BYTES").pipe(Config.withDefault(64 * 1024)),
  wsMaxBackpressureBytes: Config.integer("PLEXI_WS_MAX_BACKPRESSURE_BYTES").pipe(Config.withDefault(1024 * 1024)),
  wsRateLimit: Config.number("PLEXI_WS_RATE_LIMIT").pipe(Config.withDefault(200)),
  wsRateBurst: Config.number("PLEXI_WS_RATE_BURST").pipe(Config.withDefault(400)),
  wsIdleTimeoutSeconds: Config.integer("PLEXI_WS_IDLE_TIMEOUT_SECONDS").pipe(Config.withDefault(120)),
  apiRateLimit: Config.number("PLEXI_API_RATE_LIMIT").pipe(
    Config.withDefault(50),
    Config.withDescription("REST and typed-RPC requests per second per user on one node (sustained).")
  ),
  apiRateBurst: Config.number("PLEXI_API_RATE_BURST").pipe(Config.withDefault(200)),
  feedKeepAlive: Config.duration("PLEXI_FEED_KEEPALIVE").pipe(Config.withDefault(Duration.seconds(1))),
  logLevel: Config.logLevel("PLEXI_LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info))
})

/**
 * A cluster (`DATABASE_URL` set) must sign tokens with its own secret: with
 * the public default anyone could mint a token for any user.
 */
const checked = Effect.flatMap(config, (c) =>
  Option.isSome(c.databaseUrl) && Redacted.value(c.devTokenSecret) === defaultDevTokenSecret
    ? Effect.dieMessage(
      "PLEXI_DEV_TOKEN_SECRET is the public default: set it to a long random string (shared by all nodes) before running on Postgres"
    )
    : Effect.succeed(c))

export class PlexiConfig extends Context.Tag("plexichat/PlexiConfig")<PlexiConfig, PlexiConfigShape>() {
  static readonly layer = Layer.effect(PlexiConfig, Effect.orDie(checked))
}
