/**
 * What the backup RPCs do (domain/BackupRpcs.ts), once the caller is known to be an owner or admin: start a job
 * (which the `BackupJobs` singleton then runs), a backup's view now or as it changes, and cancellation.
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { type Duration, Effect, Option, Schedule, Stream } from "effect"
import { BackupNotFound, type BackupKind } from "../../../domain/Backup.ts"
import { type BackupJobView, BackupNotRunning } from "../../../domain/BackupRpcs.ts"
import { BackupConfig } from "../BackupConfig.ts"
import { createKeys } from "./BackupKeyFiles.ts"
import { BackupJobConfig } from "./BackupJobConfig.ts"
import { latestParent } from "./IncrementalParent.ts"
import { insertJob, prepareJob } from "./JobStart.ts"
import * as JobState from "./JobState.ts"
import { jobView } from "./JobView.ts"

/** Starts a job of `kind` and answers its first view. */
export const startBackup = (kind: BackupKind) =>
  Effect.gen(function*() {
    const keys = yield* createKeys(yield* BackupConfig)
    const parent = kind === "incremental" ? Option.some(yield* latestParent(keys.signing)) : Option.none()
    const job = yield* prepareJob(keys, { kind, parent: Option.match(parent, { onNone: () => null, onSome: (p) => ({ id: p.id, highWater: p.highWater }) }) })
    return yield* Effect.flatMap(insertJob(job), (id) => Effect.catchTag(jobView(id), "BackupNotFound", Effect.die))
  })

/** The view now and at every change, ending with the final state. */
export const followBackup = (backupId: string) =>
  Stream.unwrap(Effect.map(BackupJobConfig, (config) =>
    Stream.repeatEffectWithSchedule(jobView(backupId), Schedule.spaced(config.progressInterval)).pipe(
      Stream.changesWith((a, b) => JSON.stringify(a) === JSON.stringify(b)),
      Stream.takeUntil((view) => view.state !== "running")
    )))

/** Re-reads the view every `every` until it is no longer running. */
const settled = (backupId: string, every: Duration.Duration) => {
  const wait = (view: BackupJobView): Effect.Effect<BackupJobView, BackupNotFound | SqlError.SqlError, SqlClient.SqlClient> =>
    view.state === "running" ? Effect.flatMap(Effect.zipRight(Effect.sleep(every), jobView(backupId)), wait) : Effect.succeed(view)
  return Effect.flatMap(jobView(backupId), wait)
}

/** Asks the running job to stop and waits (up to a minute) for its final state. */
export const cancelBackup = (backupId: string) =>
  Effect.gen(function*() {
    const config = yield* BackupJobConfig
    if (!(yield* JobState.requestCancel(backupId))) {
      const view = yield* jobView(backupId)
      return yield* Effect.fail(
        view.state === "running"
          ? new BackupNotFound({ backupId, reason: "the backup has no job to cancel" })
          : new BackupNotRunning({ backupId, state: view.state })
      )
    }
    return yield* settled(backupId, config.progressInterval).pipe(
      Effect.timeout("60 seconds"),
      Effect.catchTag("TimeoutException", () => jobView(backupId))
    )
  })
