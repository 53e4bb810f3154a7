/**
 * The schema version: the newest migration recorded in `plexi_migrations`.
 * A node knows the migrations it was built with (Migrations.ts); one that
 * finds a newer schema (a newer release migrated the database) refuses to
 * start with `SchemaNewerThanNode` instead of running on tables it does not
 * know (docs/OPERATIONS.md, "Versions and upgrades"). `plan` is what
 * `plexichat migrate --dry-run` prints.
 */
import { SqlClient } from "@effect/sql"
import { Data, Effect } from "effect"

export interface Step {
  readonly id: number
  readonly name: string
}

export interface SchemaPlan {
  /** The newest recorded migration (0: an empty database). */
  readonly schemaVersion: number
  /** The newest migration this build knows. */
  readonly nodeVersion: number
  /** What a migration would run now, in order: the known ones newer than the schema. */
  readonly pending: ReadonlyArray<Step>
  /** Known migrations never recorded but older than the schema: the Migrator never runs them (a merge-order mistake). */
  readonly skipped: ReadonlyArray<Step>
  /** Recorded migrations this build does not know (a newer release's). */
  readonly unknown: ReadonlyArray<Step>
}

/** The database's schema is newer than this node: it was migrated by a newer release. */
export class SchemaNewerThanNode extends Data.TaggedError("SchemaNewerThanNode")<{
  readonly schemaVersion: number
  readonly nodeVersion: number
  readonly unknown: ReadonlyArray<string>
}> {
  override get message() {
    return `the database schema is at migration ${this.schemaVersion} (${this.unknown.join(", ")} unknown to this node), ` +
      `but this node knows migrations up to ${this.nodeVersion}: it is older than the schema and refuses to start; ` +
      `run a release that knows the schema (docs/OPERATIONS.md, "Versions and upgrades")`
  }
}

/** `0004_accounts_sessions` → `{ id: 4, name: "accounts_sessions" }`, as the Migrator reads the record's keys. */
export const stepsOf = (migrations: Record<string, unknown>): ReadonlyArray<Step> =>
  Object.keys(migrations).flatMap((key) => {
    const parsed = /^(\d+)_(.+)$/.exec(key)
    return parsed === null ? [] : [{ id: Number(parsed[1]), name: parsed[2]! }]
  }).sort((a, b) => a.id - b.id)

const recordedSteps = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    const exists = yield* sql<{ present: boolean }>`SELECT to_regclass('plexi_migrations') IS NOT NULL AS present`
    if (!exists[0]!.present) return []
    const rows = yield* sql<{ migration_id: number; name: string }>`SELECT migration_id, name FROM plexi_migrations ORDER BY migration_id`
    return rows.map((row) => ({ id: Number(row.migration_id), name: row.name }))
  })

/** What the database holds against what this build knows. */
export const plan = (known: ReadonlyArray<Step>) =>
  Effect.gen(function*() {
    const recorded = yield* recordedSteps(yield* SqlClient.SqlClient)
    const schemaVersion = recorded.reduce((max, s) => Math.max(max, s.id), 0)
    const recordedIds = new Set(recorded.map((s) => s.id))
    const knownIds = new Set(known.map((s) => s.id))
    return {
      schemaVersion,
      nodeVersion: known.reduce((max, s) => Math.max(max, s.id), 0),
      pending: known.filter((s) => s.id > schemaVersion),
      skipped: known.filter((s) => s.id <= schemaVersion && !recordedIds.has(s.id)),
      unknown: recorded.filter((s) => !knownIds.has(s.id))
    } satisfies SchemaPlan
  })

/** Fails with `SchemaNewerThanNode` when the database records a migration newer than any this build knows. */
export const requireKnownSchema = (known: ReadonlyArray<Step>) =>
  Effect.flatMap(plan(known), (p) =>
    p.schemaVersion > p.nodeVersion
      ? Effect.fail(new SchemaNewerThanNode({
        schemaVersion: p.schemaVersion,
        nodeVersion: p.nodeVersion,
        unknown: p.unknown.filter((s) => s.id > p.nodeVersion).map((s) => `${String(s.id).padStart(4, "0")}_${s.name}`)
      }))
      : Effect.succeed(p))
