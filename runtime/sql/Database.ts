/**
 * The node's SQL client: Postgres when `DATABASE_URL` is set, otherwise an
 * embedded PGlite database in `PLEXI_DATA_DIR`, served on a private Unix
 * socket by `pglite-socket` so that the very same `@effect/sql-pg` client
 * (and the cluster's SQL storage) talks to it over the Postgres protocol.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { Context, Effect, Layer, Option, type Redacted } from "effect"
import { applicationName, RunnerSocket } from "../cluster/RunnerSocket.ts"
import { DatabaseConfig, defaultTuning, pgliteTuning } from "./DatabaseConfig.ts"
import { layerClient } from "./PgClientOnPool.ts"
import { openPglite, type PgliteTuning } from "./PgliteStart.ts"

export type DatabaseKind = "postgres" | "pglite"

export class Database extends Context.Tag("plexichat/Database")<Database, {
  readonly kind: DatabaseKind
  /** The embedded store copied in memory (PGlite's `clone`), as the backup job's snapshot source reads it. */
  readonly clone?: () => Promise<PGlite>
}>() {}

/** Postgres at `url`; `applicationName` names every session (a runner's sessions carry its address). */
export const layerPostgres = (
  url: Redacted.Redacted<string>,
  options?: { readonly maxConnections?: number; readonly applicationName?: string }
) =>
  Layer.merge(
    layerClient({
      url,
      maxConnections: options?.maxConnections ?? 10,
      applicationName: options?.applicationName ?? "plexichat"
    }),
    Layer.succeed(Database, { kind: "postgres" })
  )

/** Serves the PGlite `open` gives on a private Unix socket for the lifetime of the scope, and closes it after. */
const servePglite = (open: () => Promise<PGlite>) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const db = await open()
      const socketDir = mkdtempSync(join(tmpdir(), "plexi-pg-"))
      const server = new PGLiteSocketServer({ db, path: join(socketDir, ".s.PGSQL.5432"), maxConnections: 1 })
      await server.start()
      return { db, server, socketDir }
    }),
    ({ db, server, socketDir }) =>
      Effect.promise(async () => {
        await server.stop()
        await db.close()
        rmSync(socketDir, { recursive: true, force: true })
      })
  )

/** The client options for a PGlite served in `socketDir`: one connection (PGlite runs one query at a time). */
const pgliteClient = (socketDir: string) =>
  ({ host: socketDir, port: 5432, database: "postgres", username: "postgres", maxConnections: 1, applicationName: "plexichat" })

/** A `PgClient` on the PGlite `open` gives, served on a private socket, one connection (PGlite runs one query at a time). */
export const layerPgliteClientOf = (open: () => Promise<PGlite>) =>
  Layer.unwrapScoped(Effect.map(servePglite(open), ({ socketDir }) =>
    layerClient(pgliteClient(socketDir))))

/**
 * A `PgClient` on an embedded PGlite, one connection: in `dataDir`, opened lean (`PgliteStart.ts`), or in memory
 * with PGlite's defaults when omitted.
 */
export const layerPgliteClient = (dataDir?: string, tuning: PgliteTuning = defaultTuning) =>
  layerPgliteClientOf(() => (dataDir === undefined ? PGlite.create() : openPglite(resolve(dataDir, "pglite"), tuning)))

/** The embedded store of a single node. */
export const layerPglite = (dataDir: string, tuning: PgliteTuning = defaultTuning) =>
  Layer.unwrapScoped(Effect.map(servePglite(() => openPglite(resolve(dataDir, "pglite"), tuning)), ({ db, socketDir }) =>
    Layer.merge(
      layerClient(pgliteClient(socketDir)),
      Layer.succeed(Database, { kind: "pglite", clone: () => db.clone() as Promise<PGlite> })
    )))

/** Chooses the store from the node's configuration; a runner's sessions are named after its address. */
export const layer = Layer.unwrapEffect(Effect.map(Effect.zip(DatabaseConfig, RunnerSocket), ([config, socket]) =>
  Option.match(config.url, {
    onNone: () => layerPglite(config.dataDir, pgliteTuning(config)),
    onSome: (url) =>
      layerPostgres(url, Option.match(socket, { onNone: () => ({}), onSome: (s) => ({ applicationName: applicationName(s.address) }) }))
  })
))
