/**
 * The migrations of backups (issue 9, docs/BACKUPS.md). Part of `migrations` (Migrations.ts), after the identity
 * migrations.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const backupMigrations = {
  /**
   * The backup catalog (src/backup/job/BackupCatalog.ts): one row per backup, `running` while its shards are being
   * stored, `committed` with its signed manifest, or `failed` with the reason (its shards removed). An incremental
   * backup names its parent. `plexi_backup_shards` records each shard as soon as it is stored and verified: the
   * job's progress, and the set of shards the catalog references (for garbage collection of the others).
   * Neither table is part of a backup (SnapshotTables.ts excludes `plexi_backup*`).
   */
  "0011_backup_catalog": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_backups (
      id text PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('full', 'incremental')),
      parent text REFERENCES plexi_backups (id),
      state text NOT NULL CHECK (state IN ('running', 'committed', 'failed')),
      manifest text,
      created_at bigint NOT NULL,
      committed_at bigint,
      plaintext_bytes bigint NOT NULL DEFAULT 0,
      stored_bytes bigint NOT NULL DEFAULT 0,
      shards integer NOT NULL DEFAULT 0,
      rows bigint NOT NULL DEFAULT 0,
      error text,
      CHECK ((state = 'committed') = (manifest IS NOT NULL)),
      CHECK ((kind = 'incremental') = (parent IS NOT NULL))
    )`
    yield* sql`CREATE INDEX plexi_backups_created ON plexi_backups (created_at)`
    yield* sql`CREATE TABLE plexi_backup_shards (
      backup_id text NOT NULL REFERENCES plexi_backups (id) ON DELETE CASCADE,
      idx integer NOT NULL CHECK (idx >= 0),
      hash text NOT NULL,
      plaintext_bytes integer NOT NULL,
      stored_bytes integer NOT NULL,
      replicas integer NOT NULL,
      PRIMARY KEY (backup_id, idx)
    )`
    yield* sql`CREATE INDEX plexi_backup_shards_hash ON plexi_backup_shards (hash)`
  })
}
