/**
 * Settings of the node's store, in the `ShardingConfig` style: a tag,
 * `defaults`, a validated `config` read from the environment, `layer(options)`
 * and `layerFromEnv(options)`. `DATABASE_URL` set makes the node a cluster
 * runner on Postgres; unset, a single node on an embedded PGlite store in
 * `PLEXI_DATA_DIR`, tuned by the `PLEXI_PGLITE_*` settings. An empty value is a start-up error naming the variable.
 * README's configuration table lists the same names.
 */
import { Config, Context, Option, type Redacted } from "effect"
import { configLayers } from "../../src/config/ConfigLayers.ts"
import { flag, optionalSecret, postgresMemory, text } from "../../src/config/Settings.ts"
import type { PgliteTuning } from "./PgliteStart.ts"

export interface DatabaseConfigShape {
  /** Postgres URL; none means the embedded PGlite store (a single node). */
  readonly url: Option.Option<Redacted.Redacted<string>>
  /** Directory of the embedded store (PGlite files in `<dir>/pglite`); unused on Postgres. */
  readonly dataDir: string
  /** Postgres `shared_buffers` of the embedded store; unused on Postgres. */
  readonly pgliteSharedBuffers: string
  /** Whether V8 also compiles PGlite's WebAssembly with its optimizing tier; unused on Postgres. */
  readonly pgliteOptimizeWasm: boolean
}

export class DatabaseConfig extends Context.Tag("plexichat/DatabaseConfig")<DatabaseConfig, DatabaseConfigShape>() {}

export const defaults: DatabaseConfigShape = {
  url: Option.none(),
  dataDir: "./data",
  pgliteSharedBuffers: "16MB",
  pgliteOptimizeWasm: false
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
  ),
  pgliteSharedBuffers: postgresMemory(
    "PLEXI_PGLITE_SHARED_BUFFERS",
    128,
    defaults.pgliteSharedBuffers,
    "Postgres shared_buffers of the embedded store (resident from the start). Used only without DATABASE_URL."
  ),
  pgliteOptimizeWasm: flag(
    "PLEXI_PGLITE_OPTIMIZE_WASM",
    defaults.pgliteOptimizeWasm,
    "Let V8 also compile the embedded store's WebAssembly with its optimizing tier: faster queries, about 45 MiB more memory."
  )
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(DatabaseConfig, defaults, config)

/** Whether the node runs on Postgres, i.e. as a runner of a cluster that other nodes (and clients) can reach. */
export const onPostgres = (c: DatabaseConfigShape): boolean => Option.isSome(c.url)

/** The embedded store's tuning from the node's settings. */
export const pgliteTuning = (c: DatabaseConfigShape): PgliteTuning => ({
  sharedBuffers: c.pgliteSharedBuffers,
  optimizeWasm: c.pgliteOptimizeWasm
})

/** The tuning of an embedded store opened without the node's settings (tools, benchmarks). */
export const defaultTuning: PgliteTuning = pgliteTuning(defaults)
