/** The statements of `plexi_feature_flags` (migration 0013, runtime/sql/FlagMigrations.ts). */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { FeatureFlag, FlagName } from "../../domain/FeatureFlags.ts"

interface FlagRow {
  readonly name: string
  readonly enabled: boolean
  readonly updated_at: string
  readonly updated_by: string | null
}

const toFlag = (row: FlagRow): FeatureFlag => ({
  name: row.name as FlagName,
  enabled: row.enabled,
  updatedAt: Number(row.updated_at),
  updatedBy: row.updated_by
})

export const all = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<FlagRow>`SELECT name, enabled, updated_at, updated_by FROM plexi_feature_flags ORDER BY name`, (rows) => rows.map(toFlag))

/** Sets the flag (creating it) and answers it with its value before (undefined: it did not exist). */
export const set = (sql: SqlClient.SqlClient) => (name: FlagName, enabled: boolean, by: string, now: number) =>
  Effect.gen(function*() {
    const before = yield* sql<{ enabled: boolean }>`SELECT enabled FROM plexi_feature_flags WHERE name = ${name} FOR UPDATE`
    const [row] = yield* sql<FlagRow>`INSERT INTO plexi_feature_flags (name, enabled, updated_at, updated_by)
      VALUES (${name}, ${enabled}, ${now}, ${by})
      ON CONFLICT (name) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
      RETURNING name, enabled, updated_at, updated_by`
    return { flag: toFlag(row!), previous: before[0]?.enabled }
  })
