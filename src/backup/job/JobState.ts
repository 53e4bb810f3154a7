/**
 * The durable backup job's step state (`plexi_backup_jobs`, `plexi_backup_job_chunks`, migration 0014), next to
 * the catalog (BackupCatalog.ts): which step the job reached, its sealed data key and wrapped recipient keys, the
 * high-water marks of its first snapshot, and one keyed hash per stored chunk. The row exists exactly while the
 * backup is `running`; `finish` deletes it with the catalog's final state, in one transaction.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Data, Effect, Option } from "effect"
import type { BackupKind } from "../../../domain/Backup.ts"
import * as Catalog from "./BackupCatalog.ts"

export type JobStep = "snapshot" | "shard" | "verify" | "commit"

/** What the shard step learnt from the snapshot, for the manifest's details. */
export interface SnapshotSummary {
  readonly rows: number
  readonly schemaLevel: number
  readonly tables: ReadonlyArray<string>
}

export interface JobRow {
  readonly backupId: string
  readonly kind: BackupKind
  readonly parent: string | null
  readonly createdAt: number
  readonly step: JobStep
  readonly sealedKey: Uint8Array
  /** The manifest's `recipients`, encoded (JSON text). */
  readonly recipients: string
  readonly parentHighWater: string | null
  readonly highWater: string | null
  readonly summary: string | null
  readonly verified: number
  readonly attempts: number
  readonly cancelRequested: boolean
}

const rowOf = (r: any): JobRow => ({
  backupId: r.backup_id,
  kind: r.kind,
  parent: r.parent,
  createdAt: Number(r.created_at),
  step: r.step,
  sealedKey: Uint8Array.from(r.sealed_key),
  recipients: r.recipients,
  parentHighWater: r.parent_high_water,
  highWater: r.high_water,
  summary: r.summary,
  verified: Number(r.verified),
  attempts: Number(r.attempts),
  cancelRequested: r.cancel_requested === true
})

const sql = SqlClient.SqlClient

/**
 * Another node claimed the job after this attempt did (`attempts` is the attempt's fencing token): a stalled node
 * that comes back must not write over the node that took the job over.
 */
export class BackupJobTakenOver extends Data.TaggedError("BackupJobTakenOver")<{ readonly backupId: string; readonly epoch: number }> {}

/** Locks the job's row for the caller's transaction, or fails `BackupJobTakenOver` unless attempt `epoch` still owns it. */
const fence = (sql: SqlClient.SqlClient, backupId: string, epoch: number) =>
  Effect.flatMap(
    sql`SELECT 1 FROM plexi_backup_jobs WHERE backup_id = ${backupId} AND attempts = ${epoch} FOR UPDATE`,
    (rows) => (rows.length === 1 ? Effect.void : Effect.fail(new BackupJobTakenOver({ backupId, epoch })))
  )

/** Whether `e` is the unique violation of "one job at a time" (plexi_backup_jobs_one). */
export const isOneJobViolation = (e: SqlError.SqlError) => String((e.cause as any)?.code ?? "") === "23505" || /plexi_backup_jobs_one|duplicate key/.test(String(e.cause))

/** The catalog's `running` entry and its job row, in one transaction (fails on the unique index when a job exists). */
export const create = (job: {
  readonly backupId: string
  readonly kind: BackupKind
  readonly parent: string | null
  readonly createdAt: number
  readonly sealedKey: Uint8Array
  readonly recipients: string
  readonly parentHighWater: string | null
}) =>
  Effect.flatMap(sql, (sql) =>
    sql.withTransaction(Effect.zipRight(
      Catalog.start(job.backupId, job.kind, job.parent, job.createdAt),
      sql`INSERT INTO plexi_backup_jobs (backup_id, step, sealed_key, recipients, parent_high_water)
        VALUES (${job.backupId}, 'snapshot', ${job.sealedKey}, ${job.recipients}, ${job.parentHighWater})`
    )))

const selectJob = `SELECT j.*, b.kind, b.parent, b.created_at FROM plexi_backup_jobs j JOIN plexi_backups b ON b.id = j.backup_id`

/** The job (there is at most one), if any. */
export const current = Effect.flatMap(sql, (sql) =>
  Effect.map(sql.unsafe(selectJob), (rows) => (rows.length === 0 ? Option.none<JobRow>() : Option.some(rowOf(rows[0])))))

/** Takes the job for `runner`: a new attempt, counted, whose rate starts now; answers the attempt's fencing token. */
export const claim = (backupId: string, runner: string) =>
  Effect.flatMap(sql, (sql) =>
    Effect.map(
      sql`UPDATE plexi_backup_jobs SET runner = ${runner}, attempts = attempts + 1, attempt_started_at = ${Date.now()},
        attempt_bytes = 0 WHERE backup_id = ${backupId} RETURNING attempts`,
      (rows) => Number(rows[0]?.attempts ?? 0)
    ))

/** The snapshot's high-water marks and size estimate; the job is in its shard step from now on. */
export const snapshotTaken = (backupId: string, epoch: number, highWater: string, estimate: number) =>
  Effect.flatMap(sql, (sql) =>
    sql.withTransaction(Effect.zipRight(
      fence(sql, backupId, epoch),
      sql`UPDATE plexi_backup_jobs SET step = 'shard', high_water = ${highWater}, estimate = ${estimate} WHERE backup_id = ${backupId}`
    )))

/** A stored chunk: its shard in the catalog and its keyed hash; the last one also ends the shard step. */
export const chunkStored = (
  backupId: string,
  epoch: number,
  shard: Parameters<typeof Catalog.recordShard>[1],
  mac: string,
  summary: SnapshotSummary | undefined
) =>
  Effect.flatMap(sql, (sql) =>
    sql.withTransaction(Effect.all([
      fence(sql, backupId, epoch),
      Catalog.recordShard(backupId, shard),
      sql`INSERT INTO plexi_backup_job_chunks (backup_id, idx, mac) VALUES (${backupId}, ${shard.index}, ${mac})`,
      summary === undefined
        ? sql`UPDATE plexi_backup_jobs SET attempt_bytes = attempt_bytes + ${shard.plaintextBytes} WHERE backup_id = ${backupId}`
        : sql`UPDATE plexi_backup_jobs SET attempt_bytes = attempt_bytes + ${shard.plaintextBytes}, step = 'verify',
            summary = ${JSON.stringify(summary)} WHERE backup_id = ${backupId}`
    ], { discard: true })))

/** The keyed hashes of the chunks already stored, by index. */
export const storedMacs = (backupId: string) =>
  Effect.flatMap(sql, (sql) =>
    Effect.map(sql`SELECT mac FROM plexi_backup_job_chunks WHERE backup_id = ${backupId} ORDER BY idx`, (rows) => rows.map((r) => String(r.mac))))

export const verifiedUpTo = (backupId: string, epoch: number, verified: number, done: boolean) =>
  Effect.flatMap(sql, (sql) =>
    sql.withTransaction(Effect.zipRight(
      fence(sql, backupId, epoch),
      done
        ? sql`UPDATE plexi_backup_jobs SET verified = ${verified}, step = 'commit' WHERE backup_id = ${backupId}`
        : sql`UPDATE plexi_backup_jobs SET verified = ${verified} WHERE backup_id = ${backupId}`
    )))

/** Asks the running job to stop; false when there is no such job. */
export const requestCancel = (backupId: string) =>
  Effect.flatMap(sql, (sql) =>
    Effect.map(sql`UPDATE plexi_backup_jobs SET cancel_requested = true WHERE backup_id = ${backupId} RETURNING backup_id`, (rows) => rows.length > 0))

export const cancelRequested = (backupId: string) =>
  Effect.flatMap(sql, (sql) =>
    Effect.map(sql`SELECT cancel_requested FROM plexi_backup_jobs WHERE backup_id = ${backupId}`, (rows) => rows.length === 0 || rows[0].cancel_requested === true))

/** Ends the job: the catalog's final state (`outcome`) and the job's rows gone, in one transaction, if attempt `epoch` owns it. */
export const finish = <E, R>(backupId: string, epoch: number, outcome: Effect.Effect<unknown, E, R>) =>
  Effect.flatMap(sql, (sql) =>
    sql.withTransaction(Effect.all([
      fence(sql, backupId, epoch),
      outcome,
      sql`DELETE FROM plexi_backup_job_chunks WHERE backup_id = ${backupId}`,
      sql`DELETE FROM plexi_backup_jobs WHERE backup_id = ${backupId}`
    ], { discard: true })))
