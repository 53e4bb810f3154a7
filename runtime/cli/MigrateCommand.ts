/**
 * `plexichat migrate [--dry-run] [--json]`: the schema migrations of this
 * release against the installation's Postgres (`DATABASE_URL`).
 *
 * - `--dry-run` prints the schema version, this release's, and each
 *   migration that would run, and changes nothing;
 * - without it, the migrations run as a starting node runs them: under the
 *   migration advisory lock (nodes starting meanwhile wait), the cluster's
 *   tables included.
 *
 * A database newer than this release (a migration it does not know) fails
 * with exit status 1 and changes nothing; so does a known migration that was
 * never applied but is older than the schema (the Migrator would never run
 * it: the migrations were merged out of order).
 */
import { Command, Options } from "@effect/cli"
import { ShardingConfig } from "@effect/cluster"
import { PgClient } from "@effect/sql-pg"
import { Console, Effect, Layer } from "effect"
import { databaseUrl } from "../../src/cli/CliConfig.ts"
import { CliFailure, ExitCode } from "../../src/cli/CliExit.ts"
import { knownSteps, migrate } from "../sql/Migrations.ts"
import { plan, type SchemaPlan, type Step } from "../sql/SchemaVersion.ts"

const label = (s: Step) => `${String(s.id).padStart(4, "0")}_${s.name}`

const describe = (p: SchemaPlan, dryRun: boolean) =>
  [
    `schema at ${p.schemaVersion}, this release knows up to ${p.nodeVersion}`,
    ...(p.pending.length === 0
      ? ["up to date: nothing to run"]
      : [`${dryRun ? "would run" : "running"} ${p.pending.length} migration(s):`, ...p.pending.map((s) => `  ${label(s)}`)])
  ].join("\n")

const refusal = (p: SchemaPlan): string | undefined => {
  if (p.schemaVersion > p.nodeVersion) {
    return `the schema is newer than this release (${p.unknown.map(label).join(", ")}): use the newer release's plexichat`
  }
  if (p.skipped.length > 0) {
    return `never applied but older than the schema, so never run: ${p.skipped.map(label).join(", ")} (migrations merged out of order)`
  }
  return undefined
}

const Database = Layer.unwrapEffect(Effect.map(databaseUrl, (url) => PgClient.layer({ url, maxConnections: 3, applicationName: "plexichat-cli" })))

export const migrateCommand = Command.make("migrate", {
  dryRun: Options.boolean("dry-run").pipe(Options.withDescription("Print what would run; change nothing.")),
  json: Options.boolean("json").pipe(Options.withDescription("Print one JSON object."))
}, ({ dryRun, json }) =>
  Effect.gen(function*() {
    const before = yield* plan(knownSteps)
    const problem = refusal(before)
    if (json) yield* Console.log(JSON.stringify({ ...before, dryRun, refused: problem ?? null }))
    else yield* Console.log(describe(before, dryRun || problem !== undefined))
    if (problem !== undefined) return yield* new CliFailure({ code: ExitCode.refused, message: problem })
    if (dryRun || before.pending.length === 0) return
    yield* migrate({ runnerTables: true, lock: true }).pipe(Effect.provide(ShardingConfig.layer()))
    const after = yield* plan(knownSteps)
    if (!json) yield* Console.log(`done: schema at ${after.schemaVersion}`)
  }).pipe(Effect.provide(Database))).pipe(
    Command.withDescription("Runs this release's schema migrations on DATABASE_URL (under the migration lock); --dry-run prints them.")
  )
