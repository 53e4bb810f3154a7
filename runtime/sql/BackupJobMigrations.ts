/**
 * Migration 0014: the durable backup job's step state (src/backup/job/JobState.ts, docs/BACKUPS.md#the-backup-job).
 * A row of `plexi_backup_jobs` exists exactly while its backup is `running` and is deleted when it commits, fails
 * or is cancelled (it holds the data key sealed under a key derived from the cluster's signing key). The unique
 * index on a constant lets at most one job exist at a time. `plexi_backup_job_chunks` keeps, per stored chunk, a
 * keyed hash of its plaintext, so that a resumed job can skip the chunks it already stored.
 * Neither table is part of a backup (SnapshotTables.ts excludes `plexi_backup*`).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const backupJobMigrations = {
  "0014_backup_jobs": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_backup_jobs (
      backup_id text PRIMARY KEY REFERENCES plexi_backups (id) ON DELETE CASCADE,
      step text NOT NULL CHECK (step IN ('snapshot', 'shard', 'verify', 'commit')),
      sealed_key bytea NOT NULL,
      recipients text NOT NULL,
      parent_high_water text,
      high_water text,
      summary text,
      estimate bigint NOT NULL DEFAULT 0,
      verified integer NOT NULL DEFAULT 0,
      attempts integer NOT NULL DEFAULT 0,
      attempt_started_at bigint,
      attempt_bytes bigint NOT NULL DEFAULT 0,
      runner text,
      cancel_requested boolean NOT NULL DEFAULT false
    )`
    yield* sql`CREATE UNIQUE INDEX plexi_backup_jobs_one ON plexi_backup_jobs ((true))`
    yield* sql`CREATE TABLE plexi_backup_job_chunks (
      backup_id text NOT NULL REFERENCES plexi_backups (id) ON DELETE CASCADE,
      idx integer NOT NULL CHECK (idx >= 0),
      mac text NOT NULL,
      PRIMARY KEY (backup_id, idx)
    )`
  })
}
