/**
 * Scheduled backups (docs/BACKUPS.md#the-backup-job): each configured schedule (BackupScheduleConfig.ts) is a
 * `ClusterCron`, so one node starts it at each due time (a persisted message per run, so a lost node does not lose
 * the next one) and a run missed by more than a day is skipped. A run starts a job as `StartBackup` does; when a
 * backup is still running the run is skipped (logged), and an incremental with no committed full backup yet is
 * logged as a warning. Nothing is built when no schedule is set.
 */
import { ClusterCron } from "@effect/cluster"
import { Effect, Layer, Option } from "effect"
import type { BackupKind } from "../../../domain/Backup.ts"
import { startBackup } from "./BackupControl.ts"
import { BackupScheduleConfig } from "./BackupScheduleConfig.ts"

const run = (kind: BackupKind) =>
  startBackup(kind).pipe(
    Effect.tap((view) => Effect.logInfo(`scheduled ${kind} backup ${view.backupId} started`)),
    Effect.catchTag("BackupAlreadyRunning", (e) => Effect.logInfo(`scheduled ${kind} backup skipped: backup ${e.backupId} is still running`)),
    Effect.catchAll((e) => Effect.logWarning(`scheduled ${kind} backup did not start`, e)),
    Effect.asVoid,
    Effect.annotateLogs({ module: "BackupSchedule" })
  )

export const layer = Layer.unwrapEffect(Effect.map(BackupScheduleConfig, (config) =>
  Layer.mergeAll(
    Layer.empty,
    ...Option.toArray(Option.map(config.full, (cron) => ClusterCron.make({ name: "BackupFull", cron, execute: run("full") }))),
    ...Option.toArray(Option.map(config.incremental, (cron) => ClusterCron.make({ name: "BackupIncremental", cron, execute: run("incremental") })))
  )))
