/**
 * The backup job runner: one cluster singleton (`BackupJobs`), so that one node at a time runs the job and another
 * takes over, from the job's recorded step, when that node is lost (docs/BACKUPS.md#the-backup-job). Every
 * PLEXI_BACKUP_JOB_POLL it looks for the job (at most one exists), claims it and runs an attempt (BackupJobRun.ts)
 * raced against its cancellation. The attempt's end decides:
 *
 * - committed: the gauge of the newest success is set;
 * - cancelled (CancelBackup): the entry is `failed` with the reason `cancelled`, its shards removed;
 * - `BackupDataChanged` (a resumed attempt found a stored chunk changed): the entry is `failed` ("restarted as …")
 *   and a new job with a new id and data key starts over, in one transaction;
 * - any other failure: the entry is `failed` with the reason, its shards removed, the failure counted.
 *
 * An interruption (the node stopping) changes nothing: the state stays for the next node.
 */
import { Singleton } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { Cause, Effect, Option, Schedule } from "effect"
import { BackupConfig } from "../BackupConfig.ts"
import { BackupShards } from "../store/BackupShards.ts"
import * as Catalog from "./BackupCatalog.ts"
import { createKeys } from "./BackupKeyFiles.ts"
import { BackupJobConfig } from "./BackupJobConfig.ts"
import { type BackupDataChanged, runAttempt } from "./BackupJobRun.ts"
import { insertJob, prepareJob } from "./JobStart.ts"
import * as JobState from "./JobState.ts"
import { failures, lastSuccess } from "../../observability/BackupMetrics.ts"

/**
 * Removes a job's shards, then ends it `failed` with `reason` (its state gone), so that whoever sees the failed
 * state (`CancelBackup`'s answer) finds none of its shards left. The job is marked cancelled first: a node lost
 * between the removal and the end leaves a job that the next attempt abandons too, and never commits.
 */
export const abandon = (backupId: string, epoch: number, reason: string) =>
  Effect.gen(function*() {
    const shards = yield* BackupShards
    const stored = yield* Catalog.shardsOf(backupId)
    yield* JobState.requestCancel(backupId)
    yield* Effect.forEach(stored, (hash) => Effect.ignore(shards.remove(hash)), { discard: true, concurrency: 4 })
    yield* JobState.finish(backupId, epoch, Catalog.fail(backupId, reason))
    yield* Effect.logWarning(`backup ${backupId} failed: ${reason}`)
  })

/** Fails the job whose data changed under it and starts a new one of the same kind and parent, in one transaction. */
const restart = (job: JobState.JobRow, changed: BackupDataChanged) =>
  Effect.gen(function*() {
    const keys = yield* Effect.flatMap(BackupConfig, createKeys)
    const parent = job.parent === null ? null : { id: job.parent, highWater: JSON.parse(job.parentHighWater ?? "null") }
    const next = yield* prepareJob(keys, { kind: job.kind, parent })
    const reason = `restarted as ${next.backupId}: chunk ${changed.index} changed under the backup between the node's loss and the resume`
    const shards = yield* BackupShards
    const stored = yield* Catalog.shardsOf(job.backupId)
    const sql = yield* SqlClient.SqlClient
    yield* sql.withTransaction(Effect.zipRight(JobState.finish(job.backupId, job.attempts, Catalog.fail(job.backupId, reason)), insertJob(next)))
    yield* Effect.forEach(stored, (hash) => Effect.ignore(shards.remove(hash)), { discard: true, concurrency: 4 })
    yield* Effect.logWarning(`backup ${job.backupId}: ${reason}`)
  })

/** Completes when the job was asked to stop (or is gone). */
const cancelled = (backupId: string, every: BackupJobConfig["Type"]["pollInterval"]) =>
  JobState.cancelRequested(backupId).pipe(
    Effect.repeat({ schedule: Schedule.spaced(every), until: (requested) => requested }),
    Effect.orElseSucceed(() => false)
  )

const runOne = (job: JobState.JobRow, runner: string) =>
  Effect.gen(function*() {
    const config = yield* BackupJobConfig
    if (job.cancelRequested) return yield* abandon(job.backupId, job.attempts, "cancelled")
    const epoch = yield* JobState.claim(job.backupId, runner)
    yield* Effect.logInfo(`backup ${job.backupId}: ${job.attempts === 0 ? "starting" : `resuming from its ${job.step} step`} on ${runner}`)
    let warned = false
    const hooks = {
      underReplicated: (hash: string, replicas: number, wanted: number) =>
        warned ? Effect.void : Effect.sync(() => (warned = true)).pipe(Effect.zipRight(
          Effect.logWarning(`backup ${job.backupId}: shard ${hash} stored on ${replicas} node${replicas === 1 ? "" : "s"} only (${wanted} replicas wanted)`)
        ))
    }
    const attempt = Effect.flatMap(Effect.flatMap(BackupConfig, createKeys), (keys) => runAttempt({ ...job, attempts: epoch }, keys, hooks))
    const outcome = yield* Effect.raceFirst(
      Effect.map(attempt, (committedAt) => ({ _tag: "Committed" as const, committedAt })),
      Effect.as(cancelled(job.backupId, config.pollInterval), { _tag: "Cancelled" as const })
    ).pipe(Effect.either)
    if (outcome._tag === "Right") {
      if (outcome.right._tag === "Cancelled") return yield* abandon(job.backupId, epoch, "cancelled")
      lastSuccess.update(outcome.right.committedAt / 1000)
      return yield* Effect.logInfo(`backup ${job.backupId} committed`)
    }
    const error = outcome.left
    if (error._tag === "BackupJobTakenOver") return yield* Effect.logWarning(`backup ${job.backupId}: another node took the job over`)
    if (error._tag === "BackupDataChanged") return yield* restart({ ...job, attempts: epoch }, error)
    failures.update(1)
    return yield* abandon(job.backupId, epoch, error._tag === "BackupKeyUnavailable" ? `BackupKeyUnavailable: ${error.file}: ${error.reason}` : error.reason)
  })

const loop = (runner: string) =>
  Effect.gen(function*() {
    const config = yield* BackupJobConfig
    const once = Effect.flatMap(JobState.current, Option.match({ onNone: () => Effect.void, onSome: (job) => runOne(job, runner) })).pipe(
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : Effect.logWarning("backup job runner: a pass failed", cause))
    )
    yield* Effect.zipRight(once, Effect.sleep(config.pollInterval)).pipe(Effect.forever)
  }).pipe(Effect.annotateLogs({ module: "BackupJobs" }))

/** The singleton on the node named `runner` (its runner address or node id, shown in the job's status). */
export const layer = (runner: string) => Singleton.make("BackupJobs", loop(runner))
