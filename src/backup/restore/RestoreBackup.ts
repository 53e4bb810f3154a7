/**
 * Restore of one backup into an empty database (docs/BACKUPS.md#restore): verify the manifest's signature and
 * Merkle root → open the data key → check the target holds no tables → in one transaction: create the schema
 * (`prepareSchema`, the code's migrations), then retrieve → check hash → decrypt → reassemble → apply every shard.
 * Any failed check ends the transaction by a rollback, so nothing of a failed restore is visible, not even the
 * schema; the error names the backup, the shard (when one is at fault) and the reason.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Effect, Stream } from "effect"
import { RestoreFailed } from "../../../domain/Backup.ts"
import type { RecipientPrivateKey, SigningPublicKey } from "../crypto/BackupKeys.ts"
import { unwrapDataKey } from "../crypto/KeyWrap.ts"
import type { Manifest } from "../crypto/Manifest.ts"
import { manifestFailureReason, verifyManifest } from "../crypto/ManifestSigning.ts"
import type { BackupShards } from "../store/BackupShards.ts"
import { applySnapshot } from "./SnapshotApply.ts"
import { settleAuditHead, upTo } from "./PointInTime.ts"
import { plaintextOf } from "./ShardReader.ts"

export interface RestoreOptions {
  /**
   * The signed manifests of a chain, oldest first: a full backup, then incrementals each naming the one before as its
   * parent. `label` is what the operator named (a file, a catalog id): the backup in errors until the manifest is read.
   */
  readonly manifests: ReadonlyArray<{ readonly label: string; readonly text: string }>
  readonly signingKey: SigningPublicKey
  readonly recipientKey: RecipientPrivateKey
  /** Creates the schema in the target (inside the restore's transaction) and gives its migration level. */
  readonly prepareSchema: Effect.Effect<number, unknown, SqlClient.SqlClient>
  /** Restore to this point in time (ms since the epoch) instead of the chain's end (PointInTime.ts). */
  readonly until?: number
  /** Called after each shard is checked, decrypted and handed to the apply (the CLI's progress bar). */
  readonly onProgress?: (progress: RestoreProgress) => Effect.Effect<void>
}

/** How far a restore is: shards of the whole chain checked and decrypted, and their plaintext bytes. */
export interface RestoreProgress {
  readonly backupId: string
  readonly shardsDone: number
  readonly shardsTotal: number
  readonly plaintextBytes: number
}

export interface Restored {
  /** What the restored database holds data up to (ms): T, or the newest applied backup's time when earlier. */
  readonly recoveryPoint: number
  /** The newest backup of the chain. */
  readonly backupId: string
  readonly backups: number
  readonly shards: number
  readonly tables: number
  readonly rows: number
}

/** The backup id a manifest file claims, before it is verified (to name the backup in an error). */
const claimedId = (text: string, label: string) => /"backupId":"(bk_[0-9a-z]{26})"/.exec(text)?.[1] ?? label

/** The manifest, if signed by `signingKey`, and its data key opened with `recipientKey`. */
export const openManifest = (label: string, text: string, signingKey: SigningPublicKey, recipientKey?: RecipientPrivateKey) =>
  Effect.gen(function*() {
    const backup = claimedId(text, label)
    const manifest = yield* Effect.mapError(verifyManifest(text, signingKey), (e) =>
      new RestoreFailed({ backup, shard: null, reason: manifestFailureReason(e) }))
    if (recipientKey === undefined) return { manifest, dataKey: undefined }
    const dataKey = yield* Effect.mapError(unwrapDataKey(manifest.recipients, recipientKey, manifest.backupId), (e) =>
      new RestoreFailed({
        backup: manifest.backupId,
        shard: null,
        reason: e._tag === "RecipientNotFound"
          ? `RecipientNotFound: the data key is not wrapped for recipient ${e.fingerprint}`
          : `WrappedKeyInvalid: the data key does not open with this private key (${e.fingerprint})`
      }))
    return { manifest, dataKey }
  })

const targetEmpty = (backup: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ name: string }>(`SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') ORDER BY 1 LIMIT 5`)
    if (rows.length > 0) {
      return yield* Effect.fail(new RestoreFailed({ backup, shard: null, reason: `the target database is not empty (it holds ${rows.map((r) => r.name).join(", ")}…)` }))
    }
  })

/** The database's own message of a failure (an `SqlError`'s cause), else the failure's. */
const causeOf = (e: unknown): string => {
  const failure = e as { readonly cause?: { readonly message?: unknown }; readonly message?: unknown } | undefined
  return String(failure?.cause?.message ?? failure?.message ?? e)
}

const sqlFailed = (backup: string) => (e: SqlError.SqlError) => new RestoreFailed({ backup, shard: null, reason: `database: ${causeOf(e)}` })

/**
 * The plaintext lines of a backup, shard by shard. Only whole lines are given: a line cut by a failed shard is never
 * parsed (so the shard's error is the one reported), and text after the last newline is an incomplete plaintext.
 */
export const linesOf = (manifest: Manifest, dataKey: Uint8Array, onShard?: (plaintextBytes: number) => Effect.Effect<void>) =>
  Stream.suspend(() => {
    const decoder = new TextDecoder("utf-8", { fatal: true })
    let rest = ""
    const split = (bytes: Uint8Array) => {
      const parts = (rest + decoder.decode(bytes, { stream: true })).split("\n")
      rest = parts.pop() ?? ""
      return parts
    }
    const end = Stream.suspend(() =>
      rest + decoder.decode() === ""
        ? Stream.empty
        : Stream.fail(new RestoreFailed({ backup: manifest.backupId, shard: null, reason: "the plaintext ends inside a line" })))
    const shards = onShard === undefined ? plaintextOf(manifest, dataKey) : plaintextOf(manifest, dataKey).pipe(Stream.tap((bytes) => onShard(bytes.length)))
    return shards.pipe(Stream.mapConcat(split), Stream.concat(end))
  })

interface Opened {
  readonly manifest: Manifest
  readonly dataKey: Uint8Array
  readonly kind: "full" | "incremental"
}

/** Every manifest verified and opened, and the chain checked: a full backup first, then each incremental's parent. */
const openChain = (options: RestoreOptions) =>
  Effect.gen(function*() {
    const opened: Array<Opened> = []
    for (const { label, text } of options.manifests) {
      const { dataKey, manifest } = yield* openManifest(label, text, options.signingKey, options.recipientKey)
      if (dataKey === undefined) return yield* Effect.dieMessage("openManifest was given a recipient key")
      const details = manifest.details as { readonly kind?: unknown; readonly parent?: unknown }
      const previous = opened.at(-1)?.manifest.backupId ?? null
      const kind = previous === null ? "full" : "incremental"
      if (details.kind !== kind || (details.parent ?? null) !== previous) {
        const expected = previous === null ? "a full backup" : `an incremental of ${previous}`
        return yield* Effect.fail(new RestoreFailed({ backup: manifest.backupId, shard: null, reason: `the chain needs ${expected} here, not a ${String(details.kind)} of ${String(details.parent)}` }))
      }
      opened.push({ manifest, dataKey, kind })
    }
    if (opened.length === 0) return yield* Effect.fail(new RestoreFailed({ backup: "?", shard: null, reason: "no backup to restore" }))
    return opened
  })

export const restoreBackup = (options: RestoreOptions): Effect.Effect<Restored, RestoreFailed, SqlClient.SqlClient | BackupShards> =>
  Effect.gen(function*() {
    const opened = yield* openChain(options)
    const first = opened[0]!.manifest
    if (options.until !== undefined && options.until < first.createdAt) {
      const at = new Date(first.createdAt).toISOString()
      return yield* Effect.fail(new RestoreFailed({ backup: first.backupId, shard: null, reason: `the point in time ${new Date(options.until).toISOString()} is before the chain's first backup (${at})` }))
    }
    const chain = upTo(opened.map((o) => ({ ...o, createdAt: o.manifest.createdAt })), options.until)
    const backup = chain.at(-1)!.manifest.backupId
    const sql = yield* SqlClient.SqlClient
    yield* Effect.catchTag(targetEmpty(backup), "SqlError", (e) => Effect.fail(sqlFailed(backup)(e)))
    const totals = { shards: 0, tables: 0, rows: 0 }
    const progress = { backupId: backup, shardsDone: 0, shardsTotal: chain.reduce((n, c) => n + c.manifest.shards.length, 0), plaintextBytes: 0 }
    const onShard = options.onProgress === undefined ? undefined : (bytes: number) => {
      progress.shardsDone++
      progress.plaintextBytes += bytes
      return options.onProgress!({ ...progress })
    }
    yield* sql.withTransaction(Effect.gen(function*() {
      const schemaLevel = yield* Effect.mapError(options.prepareSchema, (e) =>
        new RestoreFailed({ backup, shard: null, reason: `creating the schema: ${causeOf(e)}` }))
      for (const { dataKey, kind, manifest } of chain) {
        const until = options.until === undefined ? {} : { until: options.until }
        const applied = yield* applySnapshot(linesOf(manifest, dataKey, onShard), { backupId: manifest.backupId, kind, schemaLevel, ...until })
        totals.shards += manifest.shards.length
        totals.tables = Math.max(totals.tables, applied.tables)
        totals.rows += applied.rows
      }
      if (options.until !== undefined) yield* Effect.mapError(settleAuditHead, sqlFailed(backup))
    })).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(sqlFailed(backup)(e))))
    const newest = chain.at(-1)!.manifest.createdAt
    return { backupId: backup, backups: chain.length, ...totals, recoveryPoint: options.until === undefined ? newest : Math.min(options.until, newest) }
  })
