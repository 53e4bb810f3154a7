/**
 * The node's `@effect/sql-pg` client on a `pg` pool PlexiChat makes itself,
 * so that the pool is also at hand as `PgPool` for the statement that runs
 * outside fibers (the group commit's INSERT): both share the connections
 * and their limit. The pool is made as `PgClient.layer` makes it (the same
 * options, a `SELECT 1` before the node goes on, `end` at shutdown).
 */
import { PgClient } from "@effect/sql-pg"
import { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Layer, Redacted } from "effect"
import Pg from "pg"
import { PgPool } from "../../src/messaging/store/PgPool.ts"

export interface PoolOptions {
  readonly url?: Redacted.Redacted<string>
  readonly host?: string
  readonly port?: number
  readonly database?: string
  readonly username?: string
  readonly maxConnections: number
  readonly applicationName: string
}

const connectTimeout = Duration.seconds(5)

const acquirePool = (options: PoolOptions) =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const pool = new Pg.Pool({
        connectionString: options.url === undefined ? undefined : Redacted.value(options.url),
        host: options.host,
        port: options.port,
        database: options.database,
        user: options.username,
        max: options.maxConnections,
        application_name: options.applicationName
      })
      // An idle connection's error is reported to the pool, which drops the connection; the next query opens another.
      pool.on("error", () => {})
      return Effect.tryPromise({
        try: () => pool.query("SELECT 1"),
        catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
      }).pipe(
        Effect.timeoutFail({
          duration: connectTimeout,
          onTimeout: () => new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Connection timed out" })
        }),
        Effect.tapError(() => Effect.promise(() => pool.end())),
        Effect.as(pool)
      )
    }),
    (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000))
  )

/** `PgClient`, `SqlClient` and `PgPool` on one pool. */
export const layerClient = (options: PoolOptions) =>
  Layer.unwrapScoped(Effect.map(acquirePool(options), (pool) =>
    Layer.merge(
      PgClient.layerFromPool({ acquire: Effect.succeed(pool), applicationName: options.applicationName }),
      Layer.succeed(PgPool, pool)
    )))
