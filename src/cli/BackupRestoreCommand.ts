/**
 * `plexichat backup restore (<id> | --manifest <file>) --key <file> --target <postgres url>`: restores one backup into
 * an empty database (docs/BACKUPS.md#restore), in one transaction; a failed check leaves the target as it was.
 * The manifest comes from the catalog (`DATABASE_URL`) or a file; the shards from `PLEXI_BACKUP_SHARD_DIR`.
 */
import { Args, Command, Options } from "@effect/cli"
import type { SqlClient } from "@effect/sql"
import { Effect, Option, Redacted } from "effect"
import { RestoreFailed } from "../../domain/Backup.ts"
import { BackupConfig } from "../backup/BackupConfig.ts"
import { recipientPrivate, verifyKey } from "../backup/job/BackupKeyFiles.ts"
import { restoreBackup } from "../backup/restore/RestoreBackup.ts"
import { failed, jsonOption, manifestFileOption, manifestsNamed, report, ShardsLayer } from "./BackupCliSupport.ts"
import { layerUrl } from "./CliDatabase.ts"

const options = {
  json: jsonOption,
  id: Args.text({ name: "id" }).pipe(Args.withDescription("The backup's id in the catalog."), Args.optional),
  manifestFile: manifestFileOption,
  key: Options.text("key").pipe(Options.withDescription("A recipient's private key file (the data key is wrapped to its public half).")),
  target: Options.redacted("target").pipe(Options.withDescription("Postgres URL of the empty database to restore into."))
}

export const restoreCommand = (prepareSchema: Effect.Effect<number, unknown, SqlClient.SqlClient>) =>
  Command.make("restore", options, ({ id, json, key, manifestFile, target }) =>
    Effect.gen(function*() {
      const manifests = yield* manifestsNamed(id, manifestFile)
      const signingKey = yield* verifyKey(yield* BackupConfig)
      const recipientKey = yield* recipientPrivate(key)
      const started = Date.now()
      const restored = yield* restoreBackup({ manifests, signingKey, recipientKey, prepareSchema }).pipe(
        Effect.provide(layerUrl(Redacted.make(Redacted.value(target))))
      )
      const seconds = (Date.now() - started) / 1000
      yield* report(json, { ok: true, ...restored, seconds }, `restored ${restored.backupId} (${restored.backups} backups): ${restored.tables} tables, ${restored.rows} rows from ${restored.shards} shards in ${seconds.toFixed(1)} s`)
    }).pipe(Effect.catchTags({
      RestoreFailed: failed(json),
      BackupNotFound: failed(json),
      BackupKeyUnavailable: failed(json),
      SqlError: (e) => failed(json)(new RestoreFailed({ backup: Option.getOrElse(id, () => "?"), shard: null, reason: `database: ${e.message}` }))
    }))).pipe(Command.withDescription("Restores a backup into an empty database; nothing is left there if any check fails."), Command.provide(ShardsLayer))
