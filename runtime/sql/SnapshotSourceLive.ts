/**
 * The backup job's snapshot source (src/backup/job/SnapshotSource.ts) for this node's store: Postgres reads its own
 * snapshot on a pooled connection; the embedded PGlite (one session) is copied in memory for the snapshot step
 * (`clone`: a dump of its data directory loaded into a second PGlite, served on its own socket) and the copy read,
 * so that the node keeps its session. The copy costs about the store's size in memory while the step runs.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer } from "effect"
import { SnapshotSource } from "../../src/backup/job/SnapshotSource.ts"
import { Database, layerPgliteClientOf } from "./Database.ts"

export const layer = Layer.unwrapEffect(Effect.map(Database, (db) => {
  const clone = db.clone
  if (clone === undefined) return SnapshotSource.sameDatabase
  return Layer.succeed(SnapshotSource, {
    client: Effect.map(Effect.orDie(Layer.build(layerPgliteClientOf(clone))), (context) => Context.get(context, SqlClient.SqlClient))
  })
}))
