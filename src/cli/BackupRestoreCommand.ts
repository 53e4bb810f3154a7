/**
 * `plexichat backup restore (<id> | --manifest <file>) --key <file> --target <postgres url>`: restores one backup into
 * an empty database (docs/BACKUPS.md#restore), in one transaction; a failed check leaves the target as it was.
 * The manifest comes from the catalog (`DATABASE_URL`) or a file; the shards from `PLEXI_BACKUP_SHARD_DIR`.
 * Progress (shards checked and decrypted) goes to stderr: a bar on a terminal, a line per 10 % on a pipe (RestoreProgress.ts).
 */
import { Args, Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import type { SqlClient } from "@effect/sql"
import { Effect, Option, Redacted } from "effect"
import { RestoreFailed } from "../../domain/Backup.ts"
import { BackupConfig } from "../backup/BackupConfig.ts"
import { recipientPrivate, verifyKey } from "../backup/job/BackupKeyFiles.ts"
import { restoreBackup } from "../backup/restore/RestoreBackup.ts"
import { failed, jsonOption, manifestFileOption, manifestsNamed, report, ShardsLayer } from "./BackupCliSupport.ts"
import { layerUrl } from "./CliDatabase.ts"
import { runChannelCopy } from "./BackupChannelCopyCommand.ts"
import { restoreProgress } from "./RestoreProgress.ts"

const options = {
  json: jsonOption,
  id: Args.text({ name: "id" }).pipe(Args.withDescription("The backup's id in the catalog."), Args.optional),
  manifestFile: manifestFileOption,
  key: Options.text("key").pipe(Options.withDescription("A recipient's private key file (the data key is wrapped to its public half).")),
  target: Options.redacted("target").pipe(Options.withDescription("Postgres URL of the empty database to restore into."), Options.optional),
  channel: Options.text("channel").pipe(Options.withDescription("Copy only this channel into the live database (DATABASE_URL), under --as."), Options.optional),
  as: Options.text("as").pipe(Options.withDescription("The copied channel's new id, or auto."), Options.withDefault("auto")),
  until: Options.text("until").pipe(
    Options.withDescription("Restore to this point in time (ISO 8601 or ms since the epoch): name a backup made at or after it."),
    Options.mapEffect((text) => {
      const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text)
      return Number.isSafeInteger(ms) && ms >= 0
        ? Effect.succeed(ms)
        : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--until: not a time (ISO 8601 or ms since the epoch): ${text.slice(0, 64)}`)))
    }),
    Options.optional
  )
}

export const restoreCommand = (prepareSchema: Effect.Effect<number, unknown, SqlClient.SqlClient>) =>
  Command.make("restore", options, ({ as, channel, id, json, key, manifestFile, target: targetOption, until }) =>
    Effect.gen(function*() {
      const manifests = yield* manifestsNamed(id, manifestFile)
      const signingKey = yield* verifyKey(yield* BackupConfig)
      const recipientKey = yield* recipientPrivate(key)
      if (Option.isSome(channel)) return yield* runChannelCopy({ json, manifests, signingKey, recipientKey, channel: channel.value, as })
      if (Option.isNone(targetOption)) return yield* Effect.fail(new RestoreFailed({ backup: Option.getOrElse(id, () => "?"), shard: null, reason: "name the empty database to restore into (--target), or a channel to copy (--channel)" }))
      const target = targetOption.value
      const started = Date.now()
      const shown = restoreProgress(json)
      const restored = yield* restoreBackup({
        manifests,
        signingKey,
        recipientKey,
        prepareSchema,
        ...Option.match(until, { onNone: () => ({}), onSome: (ms) => ({ until: ms }) }),
        ...(shown.onProgress ? { onProgress: shown.onProgress } : {})
      }).pipe(
        Effect.provide(layerUrl(Redacted.make(Redacted.value(target)))),
        Effect.ensuring(Effect.sync(shown.end))
      )
      const seconds = (Date.now() - started) / 1000
      yield* report(json, { ok: true, ...restored, seconds }, `restored ${restored.backupId} (${restored.backups} backups): ${restored.tables} tables, ${restored.rows} rows from ${restored.shards} shards in ${seconds.toFixed(1)} s; recovery point ${new Date(restored.recoveryPoint).toISOString()}`)
    }).pipe(Effect.catchTags({
      RestoreFailed: failed(json),
      BackupNotFound: failed(json),
      BackupKeyUnavailable: failed(json),
      SqlError: (e) => failed(json)(new RestoreFailed({ backup: Option.getOrElse(id, () => "?"), shard: null, reason: `database: ${e.message}` }))
    }))).pipe(Command.withDescription("Restores a backup into an empty database; nothing is left there if any check fails."), Command.provide(ShardsLayer))
