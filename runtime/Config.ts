/**
 * Every setting of a PlexiChat node, read through Effect `Config` from the
 * environment; the WebSocket gateway's (`PLEXI_WS_*`) are in
 * runtime/edge/WsConfig.ts. The README's configuration table lists the same names.
 *
 * The cluster's settings (PLEXI_RUNNER_*, PLEXI_SHARD_*, …) are in
 * runtime/cluster/ClusterConfig.ts. The cluster library reads `HOST`/`PORT`
 * itself when left to its own devices; we pass it every address explicitly,
 * so the public `PORT` never leaks into the runner's port.
 */
import { Config, Context, Duration, Effect, Layer, LogLevel, Option, Redacted } from "effect"

export interface PlexiConfigShape {
  /** Postgres URL; none means the embedded PGlite store. */
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly dataDir: string
  readonly host: string
  readonly port: number
  readonly nodeId: Option.Option<string>
  readonly devAuth: boolean
  readonly devTokenSecret: Redacted.Redacted<string>
  readonly devTokenTtl: Duration.Duration
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
  port: Config.integer("PORT").pipe(
    Config.withDefault(8080),
    Config.validate({ message: "PORT must be a TCP port from 0 to 65535 (0: the OS chooses)", validation: (n) => n >= 0 && n <= 65535 })
  ),
  nodeId: Config.option(Config.string("PLEXI_NODE_ID")),
  devAuth: Config.boolean("PLEXI_DEV_AUTH").pipe(Config.withDefault(true)),
  devTokenSecret: Config.redacted("PLEXI_DEV_TOKEN_SECRET").pipe(
    Config.withDefault(Redacted.make(defaultDevTokenSecret))
  ),
  devTokenTtl: Config.duration("PLEXI_DEV_TOKEN_TTL").pipe(Config.withDefault(Duration.hours(12))),

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
