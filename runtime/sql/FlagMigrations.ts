/**
 * Migration 0013: feature flags (src/flags/). One row per flag that was
 * ever set: on or off, when and by whom it last changed. Every node re-reads
 * the table every `PLEXI_FLAGS_REFRESH`; changes are audited in
 * `plexi_audit_log` (`admin.flag_set`). Part of `migrations` (Migrations.ts).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const flagMigrations = {
  "0013_feature_flags": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_feature_flags (
      name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9._-]{0,63}$'),
      enabled boolean NOT NULL,
      updated_at bigint NOT NULL,
      updated_by text
    )`
  })
}
