/**
 * `plexichat backup drill --key <recipient .key> [--json]`: restores the newest committed backup's chain into a
 * scratch schema of `DATABASE_URL` (created and dropped by the drill), compares every table with the backup and the
 * append-only ones with the source as of the backup, and reports the recovery point (backup time, data age) and
 * the recovery time achieved (docs/BACKUPS.md#drill). Exit status 1 on any mismatch or failed restore.
 */
import { Command, Options } from "@effect/cli"
import type { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import { BackupNotFound } from "../../domain/Backup.ts"
import { BackupConfig } from "../backup/BackupConfig.ts"
import { restoreDrill } from "../backup/drill/RestoreDrill.ts"
import * as Catalog from "../backup/job/BackupCatalog.ts"
import { recipientPrivate, verifyKey } from "../backup/job/BackupKeyFiles.ts"
import { BackupLayer, failed, jsonOption, manifestsNamed, report } from "./BackupCliSupport.ts"
import { databaseUrl } from "./CliConfig.ts"
import { maintenanceFailed } from "./BackupGcCommand.ts"

const seconds = (ms: number) => (ms / 1000).toFixed(1)

export const drillCommand = (prepareSchema: Effect.Effect<number, unknown, SqlClient.SqlClient>) =>
  Command.make("drill", {
    json: jsonOption,
    key: Options.text("key").pipe(Options.withDescription("A recipient's private key file (the data keys are wrapped to its public half)."))
  }, ({ json, key }) =>
    Effect.gen(function*() {
      const latest = yield* Catalog.latestCommitted
      if (Option.isNone(latest)) return yield* Effect.fail(new BackupNotFound({ backupId: "", reason: "no committed backup to drill" }))
      const manifests = yield* manifestsNamed(Option.some(latest.value.entry.id), [])
      const signingKey = yield* verifyKey(yield* BackupConfig)
      const recipientKey = yield* recipientPrivate(key)
      const drill = yield* restoreDrill({ manifests, signingKey, recipientKey, prepareSchema, sourceUrl: yield* databaseUrl })
      const text = [
        `${drill.ok ? "ok" : "MISMATCH"}: drilled ${drill.restored.backupId} (${drill.restored.backups} backups, ${drill.tables.length} tables, ${drill.restored.rows} rows)`,
        `recovery point ${new Date(drill.backupTime).toISOString()} (data ${seconds(drill.dataAgeMs)} s old); recovery time ${seconds(drill.recoveryTimeMs)} s`,
        ...drill.mismatches
      ].join("\n")
      yield* report(json, drill, text)
      if (!drill.ok) process.exitCode = 1
    }).pipe(Effect.catchTags({
      RestoreFailed: failed(json),
      BackupNotFound: failed(json),
      BackupKeyUnavailable: failed(json),
      SqlError: maintenanceFailed(json, "drill: the catalog"),
      ConfigError: (e) => maintenanceFailed(json, "drill: DATABASE_URL")({ _tag: "ConfigError", message: String(e) })
    }))).pipe(
    Command.withDescription("Restores the newest backup chain into a scratch schema, checks it against the backup and the source, reports RPO and RTO."),
    Command.provide(BackupLayer)
  )
