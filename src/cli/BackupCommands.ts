/**
 * `plexichat backup create|list|verify|restore|keys` (docs/BACKUPS.md#the-cli).
 *
 * - `create --url <node> [--incremental] [--manifest-out <file>]` starts the backup job on the cluster and follows
 *   it (BackupRemoteCommands.ts, with `status <id> [--follow]` and `cancel <id>`);
 * - `create [--manifest-out <file>]` without `--url` makes a full backup of the installation's Postgres
 *   (`DATABASE_URL`) in this process into the shard directory (`PLEXI_BACKUP_SHARD_DIR`), wrapped for
 *   `PLEXI_BACKUP_RECIPIENTS` and signed with `PLEXI_BACKUP_SIGNING_KEY`; on a terminal it shows its progress on stderr;
 * - `list` prints the catalog, newest first;
 * - `verify <id> | --manifest <file> [--key <file>]` checks the signature, the Merkle root and every shard's hash,
 *   and with a recipient's private key also decrypts every shard;
 * - `restore` (BackupRestoreCommand.ts) restores a backup into an empty database.
 *
 * Every command takes `--json`; any failure exits with status 1 and names what failed.
 */
import { Args, Command, Options } from "@effect/cli"
import type { SqlClient } from "@effect/sql"
import { writeFile } from "node:fs/promises"
import { Console, Effect, Option, Stream } from "effect"
import { type BackupEntry, BackupKeyUnavailable, RestoreFailed } from "../../domain/Backup.ts"
import { BackupConfig } from "../backup/BackupConfig.ts"
import * as Catalog from "../backup/job/BackupCatalog.ts"
import { createKeys, recipientPrivate, verifyKey } from "../backup/job/BackupKeyFiles.ts"
import { type BackupProgress, createBackup } from "../backup/job/CreateBackup.ts"
import { latestParent } from "../backup/job/IncrementalParent.ts"
import { openManifest } from "../backup/restore/RestoreBackup.ts"
import { plaintextOf } from "../backup/restore/ShardReader.ts"
import { BackupShards } from "../backup/store/BackupShards.ts"
import { BackupLayer, failed, jsonOption, manifestFileOption, manifestsNamed, mib, report, ShardsLayer } from "./BackupCliSupport.ts"
import { keysCommand } from "./BackupKeyCommands.ts"
import { cancelCommand, createOnCluster, listOnCluster, statusCommand } from "./BackupRemoteCommands.ts"
import { restoreCommand } from "./BackupRestoreCommand.ts"
import { remoteOptions } from "./Remote.ts"
import { pruneCommand } from "./BackupPruneCommand.ts"
import { gcCommand } from "./BackupGcCommand.ts"
import { scrubCommand } from "./BackupScrubCommand.ts"
import { repairCommand } from "./BackupRepairCommand.ts"
import { drillCommand } from "./BackupDrillCommand.ts"

/** Progress on a terminal's stderr, one line rewritten in place; nothing when stderr is not a terminal. */
const terminalProgress = (json: boolean) =>
  json || !process.stderr.isTTY
    ? undefined
    : (p: BackupProgress) => Effect.sync(() => process.stderr.write(`\r${p.backupId} ${p.step}: ${p.shards} shards, ${mib(p.plaintextBytes)} MiB\u001b[K`))

const createCommand = Command.make("create", {
  ...remoteOptions,
  json: jsonOption,
  incremental: Options.boolean("incremental").pipe(Options.withDescription("Only what changed after the newest committed backup (its child in the chain).")),
  manifestOut: Options.text("manifest-out").pipe(Options.withDescription("Also write the signed manifest to this file (keep it off the database)."), Options.optional)
}, ({ incremental, json, manifestOut, ...flags }) =>
  Effect.gen(function*() {
    if (Option.isSome(flags.url)) return yield* createOnCluster(flags, incremental ? "incremental" : "full", json, manifestOut)
    return yield* createHere(incremental, json, manifestOut)
  })).pipe(
    Command.withDescription(
      "Makes a full (or --incremental) backup: snapshot, encrypt, store the shards, verify them, commit the signed manifest. " +
        "With --url the job runs on the cluster and is followed; without, in this process on DATABASE_URL into PLEXI_BACKUP_SHARD_DIR."
    )
  )

/** The backup made in this process (no --url): DATABASE_URL into PLEXI_BACKUP_SHARD_DIR. */
const createHere = (incremental: boolean, json: boolean, manifestOut: Option.Option<string>) =>
  Effect.gen(function*() {
    const keys = yield* createKeys(yield* BackupConfig)
    const onProgress = terminalProgress(json)
    const parent = incremental ? { parent: yield* latestParent(keys.signing) } : {}
    const created = yield* createBackup({ keys, kind: incremental ? "incremental" : "full", ...parent, ...(onProgress ? { onProgress } : {}) })
    if (onProgress) process.stderr.write("\n")
    if (Option.isSome(manifestOut)) {
      const file = manifestOut.value
      yield* Effect.tryPromise({ try: () => writeFile(file, created.manifest, { flag: "wx" }), catch: (e) => new BackupKeyUnavailable({ file, reason: `cannot write the manifest: ${String(e)}` }) })
    }
    if (created.underReplicated) yield* Console.error("warning: some shards have fewer copies than wanted (a single shard store holds them)")
    const { manifest: _, ...summary } = created
    yield* report(json, { ok: true, ...summary }, `committed ${created.backupId}: ${created.shards} shards, ${created.rows} rows, ${mib(created.plaintextBytes)} MiB`)
  }).pipe(Effect.catchTags({ BackupFailed: failed(json), BackupKeyUnavailable: failed(json) }), Effect.provide(BackupLayer))

/** Prints catalog entries, newest first. */
const printEntries = (json: boolean, entries: ReadonlyArray<BackupEntry>) =>
  Effect.gen(function*() {
    if (json) return yield* Console.log(JSON.stringify({ ok: true, backups: entries }))
    if (entries.length === 0) return yield* Console.log("no backups")
    for (const e of entries) {
      const at = new Date(e.createdAt).toISOString()
      yield* Console.log(`${e.id} ${e.kind} ${e.state} ${at} ${e.shards} shards ${mib(e.plaintextBytes)} MiB${e.error === null ? "" : ` (${e.error})`}`)
    }
  })

const listCommand = Command.make("list", { ...remoteOptions, json: jsonOption }, ({ json, ...flags }) =>
  Effect.gen(function*() {
    if (Option.isSome(flags.url)) return yield* Effect.flatMap(listOnCluster(flags), (entries) => printEntries(json, entries))
    return yield* Effect.flatMap(Catalog.list, (entries) => printEntries(json, entries)).pipe(Effect.provide(BackupLayer))
  })).pipe(Command.withDescription("Lists the backup catalog, newest first (with --url: through the nodes, RPC ListBackups)."))

const keyOption = Options.text("key").pipe(Options.withDescription("A recipient's private key file: also decrypt every shard."), Options.optional)

/** Reads every shard and checks its hash; with the data key, also decrypts each at its position. */
const checkShards = (manifest: Parameters<typeof plaintextOf>[0], dataKey: Uint8Array | undefined) =>
  dataKey === undefined
    ? Effect.flatMap(BackupShards, (shards) =>
      Effect.forEach(manifest.shards, (hash) => shards.retrieve(hash), { discard: true }).pipe(
        Effect.mapError((e) => new RestoreFailed({ backup: manifest.backupId, shard: `${manifest.shards.indexOf(e.hash)}:${e.hash}`, reason: `${e._tag}: ${e.reason}` }))
      ))
    : Stream.runDrain(plaintextOf(manifest, dataKey))

const verifyCommand = Command.make("verify", {
  json: jsonOption,
  id: Args.text({ name: "id" }).pipe(Args.withDescription("The backup's id in the catalog."), Args.optional),
  manifestFile: manifestFileOption,
  key: keyOption
}, ({ id, json, key, manifestFile }) =>
  Effect.gen(function*() {
    const chain = yield* manifestsNamed(id, manifestFile.slice(-1))
    const { label, text } = chain.at(-1)!
    const signing = yield* verifyKey(yield* BackupConfig)
    const recipient = Option.isSome(key) ? yield* recipientPrivate(key.value) : undefined
    const { dataKey, manifest } = yield* openManifest(label, text, signing, recipient)
    yield* checkShards(manifest, dataKey)
    const decrypted = dataKey !== undefined
    yield* report(json, { ok: true, backupId: manifest.backupId, shards: manifest.shards.length, decrypted }, `ok: ${manifest.backupId}, signature and ${manifest.shards.length} shards verified${decrypted ? " and decrypted" : ""}`)
  }).pipe(Effect.catchTags({
    RestoreFailed: failed(json),
    BackupNotFound: failed(json),
    BackupKeyUnavailable: failed(json)
  }))).pipe(Command.withDescription("Checks a backup's signature, Merkle root and shards (and decrypts them with --key)."), Command.provide(ShardsLayer))

/** The `backup` command group; `prepareSchema` makes a restore's target schema (the nodes' migrations). */
export const backupCommand = (prepareSchema: Effect.Effect<number, unknown, SqlClient.SqlClient>) =>
  Command.make("backup").pipe(
    Command.withDescription("Encrypted, signed backups."),
    Command.withSubcommands([
      createCommand,
      statusCommand,
      cancelCommand,
      listCommand,
      verifyCommand,
      restoreCommand(prepareSchema),
      keysCommand,
      pruneCommand,
      gcCommand,
      scrubCommand,
      repairCommand,
      drillCommand(prepareSchema)
    ])
  )
