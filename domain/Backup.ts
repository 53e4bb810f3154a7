/**
 * Backups as operators and tools see them (docs/BACKUPS.md): the catalog's entries and the failures of a backup
 * or a restore, which cross the CLI's `--json` output (and later the BackupJob entity's RPCs).
 */
import { Schema } from "effect"

/** A backup's id: `bk_` and 26 lower-case base32 characters (also the chunks' AAD and the manifest's `backupId`). */
export const BackupId = Schema.String.pipe(Schema.pattern(/^bk_[0-9a-z]{26}$/), Schema.brand("BackupId"))
export type BackupId = typeof BackupId.Type

/** `full`: every covered table; `incremental`: what changed after its parent's high-water marks. */
export const BackupKind = Schema.Literal("full", "incremental")
export type BackupKind = typeof BackupKind.Type

/** `running` until its manifest is signed and stored (`committed`), or `failed` (its shards removed). */
export const BackupState = Schema.Literal("running", "committed", "failed")
export type BackupState = typeof BackupState.Type

/** One row of the catalog (`plexi_backups`). Sizes are bytes; `manifest` is the signed manifest file once committed. */
export const BackupEntry = Schema.Struct({
  id: Schema.String,
  kind: BackupKind,
  parent: Schema.NullOr(Schema.String),
  state: BackupState,
  createdAt: Schema.Number,
  committedAt: Schema.NullOr(Schema.Number),
  plaintextBytes: Schema.Number,
  storedBytes: Schema.Number,
  shards: Schema.Number,
  rows: Schema.Number,
  error: Schema.NullOr(Schema.String)
})
export type BackupEntry = typeof BackupEntry.Type

/** The backup could not be made; nothing of it stays (its stored shards are removed, its entry is `failed`). */
export class BackupFailed extends Schema.TaggedError<BackupFailed>()("BackupFailed", {
  backupId: Schema.String,
  reason: Schema.String
}) {}

/**
 * A restore stopped: `backup` is the backup (its id, or the manifest file when the manifest cannot be read),
 * `shard` the shard (`<index>:<hash>`) when one is at fault, `reason` what failed. Nothing of it is visible in
 * the target database (it runs in one transaction).
 */
export class RestoreFailed extends Schema.TaggedError<RestoreFailed>()("RestoreFailed", {
  backup: Schema.String,
  shard: Schema.NullOr(Schema.String),
  reason: Schema.String
}) {}

/** No backup with this id in the catalog, or it is not committed. */
export class BackupNotFound extends Schema.TaggedError<BackupNotFound>()("BackupNotFound", {
  backupId: Schema.String,
  reason: Schema.String
}) {}

/** A backup key file named in the configuration or on the command line is missing, unreadable or of another kind. */
export class BackupKeyUnavailable extends Schema.TaggedError<BackupKeyUnavailable>()("BackupKeyUnavailable", {
  file: Schema.String,
  reason: Schema.String
}) {}
