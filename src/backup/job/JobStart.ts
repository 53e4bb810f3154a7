/**
 * A new backup job's first state: a fresh id and data key, the data key wrapped for every recipient (first, so
 * that a bad recipient file fails before any work) and sealed for the job state under the signing key (JobKey.ts),
 * the catalog's `running` entry and the job row written in one transaction. The unique index lets one job exist at
 * a time: a second start fails `BackupAlreadyRunning`.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import { BackupFailed, type BackupKind } from "../../../domain/Backup.ts"
import { BackupAlreadyRunning } from "../../../domain/BackupRpcs.ts"
import { generateDataKey } from "../crypto/ChunkCipher.ts"
import { WrappedKey, wrapDataKey } from "../crypto/KeyWrap.ts"
import type { HighWater } from "../snapshot/Snapshot.ts"
import type { CreateKeys } from "./BackupKeyFiles.ts"
import { newBackupId } from "./BackupId.ts"
import { sealDataKey } from "./JobKey.ts"
import * as JobState from "./JobState.ts"

const encodeRecipients = Schema.encode(Schema.parseJson(Schema.Array(WrappedKey)))

export interface JobSpec {
  readonly kind: BackupKind
  readonly parent: { readonly id: string; readonly highWater: HighWater } | null
}

/** The job's row values, made without touching the database. */
export const prepareJob = (keys: CreateKeys, spec: JobSpec) =>
  Effect.gen(function*() {
    const createdAt = Date.now()
    const backupId = newBackupId(createdAt)
    const dataKey = generateDataKey()
    const wrapped = yield* wrapDataKey(dataKey, keys.recipients, backupId)
    return {
      backupId,
      kind: spec.kind,
      parent: spec.parent?.id ?? null,
      createdAt,
      sealedKey: sealDataKey(keys.signing, backupId, dataKey),
      recipients: yield* encodeRecipients(wrapped),
      parentHighWater: spec.parent === null ? null : JSON.stringify(spec.parent.highWater)
    }
  }).pipe(Effect.mapError((e) => new BackupFailed({ backupId: "", reason: `${e._tag}: ${"reason" in e ? e.reason : e.message}` })))

/** Writes a prepared job; `BackupAlreadyRunning` naming the running one when a job exists. */
export const insertJob = (job: Effect.Effect.Success<ReturnType<typeof prepareJob>>) =>
  JobState.create(job).pipe(
    Effect.catchTag("SqlError", (e) =>
      JobState.isOneJobViolation(e)
        ? Effect.flatMap(JobState.current, (running) =>
          Effect.fail(new BackupAlreadyRunning({ backupId: Option.match(running, { onNone: () => "", onSome: (r) => r.backupId }) })))
        : Effect.fail(e)),
    Effect.as(job.backupId)
  )

export type { SqlClient }
