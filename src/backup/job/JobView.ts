/**
 * A backup as its job reports it (`BackupJobView`, domain/BackupRpcs.ts): the catalog's entry and, while it runs,
 * the job's step state. `percent` is 0 in the snapshot step, up to 90 while sharding (plaintext bytes against the
 * tables' heap size, an estimate), 90 to 99 while verifying (shards read back), 99 at commit, 100 once committed;
 * `rate` is the plaintext bytes per second the current attempt stored (0 outside the shard step).
 */
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import { BackupNotFound } from "../../../domain/Backup.ts"
import type { BackupJobView, BackupStep } from "../../../domain/BackupRpcs.ts"

const query = `SELECT b.id, b.kind, b.parent, b.state, b.created_at, b.committed_at, b.plaintext_bytes, b.stored_bytes, b.shards,
  b.error, b.manifest, j.step, j.estimate, j.verified, j.attempts, j.attempt_started_at, j.attempt_bytes, j.runner
  FROM plexi_backups b LEFT JOIN plexi_backup_jobs j ON j.backup_id = b.id WHERE b.id = $1`

const percentOf = (step: BackupStep, plaintext: number, estimate: number, verified: number, shards: number) => {
  switch (step) {
    case "snapshot":
    case "failed":
      return 0
    case "shard":
      return estimate <= 0 ? 0 : Math.min(89, Math.floor((90 * plaintext) / estimate))
    case "verify":
      return 90 + (shards === 0 ? 0 : Math.floor((9 * verified) / shards))
    case "commit":
      return 99
    case "committed":
      return 100
  }
}

export const viewOf = (r: any, now: number): BackupJobView => {
  const running = r.state === "running"
  const step: BackupStep = running ? (r.step ?? "snapshot") : r.state
  const plaintextBytes = Number(r.plaintext_bytes)
  const shards = Number(r.shards)
  const verified = running ? Number(r.verified ?? 0) : r.state === "committed" ? shards : 0
  const seconds = r.attempt_started_at === null || r.attempt_started_at === undefined ? 0 : (now - Number(r.attempt_started_at)) / 1000
  return {
    backupId: r.id,
    kind: r.kind,
    parent: r.parent,
    state: r.state,
    step,
    shards,
    verified,
    plaintextBytes,
    storedBytes: Number(r.stored_bytes),
    estimatedBytes: Number(r.estimate ?? plaintextBytes),
    percent: percentOf(step, plaintextBytes, Number(r.estimate ?? 0), verified, shards),
    rate: step === "shard" && seconds > 0 ? Math.round(Number(r.attempt_bytes ?? 0) / seconds) : 0,
    attempts: Number(r.attempts ?? 0),
    runner: running ? (r.runner ?? null) : null,
    createdAt: Number(r.created_at),
    committedAt: r.committed_at === null ? null : Number(r.committed_at),
    error: r.error,
    manifest: r.manifest
  }
}

/** The backup's view now, or `BackupNotFound`. */
export const jobView = (backupId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.unsafe(query, [backupId]).pipe(
      Effect.map((rows) => (rows.length === 0 ? Option.none() : Option.some(viewOf(rows[0], Date.now())))),
      Effect.flatMap(Option.match({
        onNone: () => Effect.fail(new BackupNotFound({ backupId, reason: "no backup with this id in the catalog" })),
        onSome: Effect.succeed
      }))
    ))
