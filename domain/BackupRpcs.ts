/**
 * The durable backup job as typed RPCs (`/rpc`, docs/BACKUPS.md#the-backup-job): owners and admins only (the stored
 * role, checked on every call; anyone else gets `Forbidden`, audited `admin.ops.denied`). Starting and cancelling
 * are audited (`admin.backup_started`, `admin.backup_cancelled`). The job runs on the nodes, one at a time, and
 * resumes on another node when the node running it is lost.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { RpcAuthentication } from "./Api.ts"
import { BackupEntry, BackupFailed, BackupKeyUnavailable, BackupKind, BackupNotFound, BackupState } from "./Backup.ts"
import { Forbidden, ServiceUnavailable } from "./Errors.ts"

/** Where a job is: its step while `running`, else its final state. */
export const BackupStep = Schema.Literal("snapshot", "shard", "verify", "commit", "committed", "failed")
export type BackupStep = typeof BackupStep.Type

/** A backup as its job reports it. `percent` is an estimate while sharding (from the tables' sizes); `rate` is plaintext bytes/s of the current attempt. */
export const BackupJobView = Schema.Struct({
  backupId: Schema.String,
  kind: BackupKind,
  parent: Schema.NullOr(Schema.String),
  state: BackupState,
  step: BackupStep,
  shards: Schema.Number,
  /** Shards read back and checked in the verify step. */
  verified: Schema.Number,
  plaintextBytes: Schema.Number,
  storedBytes: Schema.Number,
  estimatedBytes: Schema.Number,
  percent: Schema.Number,
  rate: Schema.Number,
  /** How many times a node started (or resumed) it; above 1 after a resume. */
  attempts: Schema.Number,
  /** The runner address of the node running it, while running. */
  runner: Schema.NullOr(Schema.String),
  createdAt: Schema.Number,
  committedAt: Schema.NullOr(Schema.Number),
  error: Schema.NullOr(Schema.String),
  /** The signed manifest file once committed (keep a copy off the database). */
  manifest: Schema.NullOr(Schema.String)
})
export type BackupJobView = typeof BackupJobView.Type

/** Another backup job is running (one at a time); `backupId` names it. */
export class BackupAlreadyRunning extends Schema.TaggedError<BackupAlreadyRunning>()("BackupAlreadyRunning", {
  backupId: Schema.String
}) {}

/** The backup is not running (committed or failed): there is nothing to cancel. */
export class BackupNotRunning extends Schema.TaggedError<BackupNotRunning>()("BackupNotRunning", {
  backupId: Schema.String,
  state: BackupState
}) {}

const Failure = Schema.Union(Forbidden, ServiceUnavailable)

/**
 * Starts a backup job (`full`, or `incremental` after the newest committed backup) and answers its first view.
 * Fails `BackupAlreadyRunning`, `BackupKeyUnavailable` (the answering node lacks PLEXI_BACKUP_RECIPIENTS or
 * PLEXI_BACKUP_SIGNING_KEY, or a file is unreadable), `BackupFailed` (an incremental without a committed parent, or
 * whose parent's manifest does not verify).
 */
export const StartBackup = Rpc.make("StartBackup", {
  payload: { kind: BackupKind },
  success: BackupJobView,
  error: Schema.Union(Failure, BackupAlreadyRunning, BackupKeyUnavailable, BackupFailed)
})

/** A backup's view now; `BackupNotFound` for an id the catalog does not hold. */
export const BackupStatus = Rpc.make("BackupStatus", {
  payload: { backupId: Schema.String },
  success: BackupJobView,
  error: Schema.Union(Failure, BackupNotFound)
})

/** A backup's view now and at every change (polled every PLEXI_BACKUP_PROGRESS_INTERVAL), ending with its final state. */
export const FollowBackup = Rpc.make("FollowBackup", {
  payload: { backupId: Schema.String },
  success: BackupJobView,
  error: Schema.Union(Failure, BackupNotFound),
  stream: true
})

/**
 * Cancels a running backup: its shards are removed and its entry ends `failed` with the reason `cancelled`;
 * answers that final view. `BackupNotRunning` for a committed or failed backup, `BackupNotFound` for an unknown id.
 */
export const CancelBackup = Rpc.make("CancelBackup", {
  payload: { backupId: Schema.String },
  success: BackupJobView,
  error: Schema.Union(Failure, BackupNotFound, BackupNotRunning)
})

/** The catalog, newest first. */
export const ListBackups = Rpc.make("ListBackups", { payload: {}, success: Schema.Array(BackupEntry), error: Failure })

export class BackupRpcs extends RpcGroup.make(StartBackup, BackupStatus, FollowBackup, CancelBackup, ListBackups).middleware(RpcAuthentication) {}
