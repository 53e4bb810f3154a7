/**
 * Where the backup job reads its snapshot from: a SQL client for the snapshot step's scope. On Postgres that is the
 * node's own client (the snapshot takes one pooled connection for its transaction); an embedded node's PGlite runs
 * one session only, which a long snapshot transaction would hold away from the node, so there the job reads a copy
 * of the store made for the step (runtime/sql/SnapshotSourceLive.ts).
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, type Scope } from "effect"

export interface SnapshotSourceShape {
  readonly client: Effect.Effect<SqlClient.SqlClient, never, Scope.Scope>
}

export class SnapshotSource extends Context.Tag("plexichat/SnapshotSource")<SnapshotSource, SnapshotSourceShape>() {
  /** The node's own database. */
  static readonly sameDatabase = Layer.effect(SnapshotSource, Effect.map(SqlClient.SqlClient, (sql) => ({ client: Effect.succeed(sql) })))
}
