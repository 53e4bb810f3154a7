/**
 * Settings of the node's store, in the `ShardingConfig` style: a tag,
 * `defaults`, a validated `config` read from the environment, `layer(options)`
 * and `layerFromEnv(options)`. `DATABASE_URL` set makes the node a cluster
 * runner on Postgres; unset, a single node on an embedded PGlite store in
 * `PLEXI_DATA_DIR`. An empty value is a start-up error naming the variable.
 * README's configuration table lists the same names.
 */
import { Config, Context, Option, type Redacted } from "effect"
import { configLayers } from "../../src/config/ConfigLayers.ts"
import { optionalSecret, text } from "../../src/config/Settings.ts"

export interface DatabaseConfigShape {
  /** Postgres URL; none means the embedded PGlite store (a single node). */
  readonly url: Option.Option<Redacted.Redacted<string>>
  /** Directory of the embedded store (PGlite files in `<dir>/pglite`); unused on Postgres. */
  readonly dataDir: string
}

export class DatabaseConfig extends Context.Tag("plexichat/DatabaseConfig")<DatabaseConfig, DatabaseConfigShape>() {}

export const defaults: DatabaseConfigShape = {
  url: Option.none(),
  dataDir: "./data"
}

export const config: Config.Config<DatabaseConfigShape> = Config.all({
  url: optionalSecret(
    "DATABASE_URL",
    "Postgres URL: the node is a cluster runner on Postgres. Unset: an embedded PGlite store in PLEXI_DATA_DIR (single node)."
  ),
  dataDir: text(
    "PLEXI_DATA_DIR",
    defaults.dataDir,
    "Directory of the embedded store (PGlite files in <dir>/pglite). Used only without DATABASE_URL."
  )
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(DatabaseConfig, defaults, config)

/** Whether the node runs on Postgres, i.e. as a runner of a cluster that other nodes (and clients) can reach. */
export const onPostgres = (c: DatabaseConfigShape): boolean => Option.isSome(c.url)
