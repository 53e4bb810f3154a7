/**
 * The rule that picks a backup's tables (docs/BACKUPS.md#what-a-backup-holds), on a real migrated database: a table
 * added later is covered with no change to the backup code, the cluster's tables, migration bookkeeping, shard locks
 * and the backup catalog are not, and tables come after the tables their foreign keys point to.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { coveredTables } from "../../src/backup/snapshot/SnapshotTables.ts"
import { migrated, postgresDatabase, query, sqlLayer } from "../fixtures/BackupFixture.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

const databases: Array<TestDatabase> = []
let db: TestDatabase

beforeAll(async () => {
  db = await postgresDatabase(databases)
  await migrated(db)
  await query(db, "CREATE TABLE a_later_feature (id bigserial PRIMARY KEY, user_id text REFERENCES plexi_users (id), note text, shout text GENERATED ALWAYS AS (upper(note)) STORED)")
  await query(db, "CREATE TABLE cluster_something_new (id int)")
  await query(db, "CREATE TABLE plexi_backup_scratch (id int)")
  await query(db, "CREATE VIEW plexi_a_view AS SELECT id FROM plexi_users")
}, 60_000)

afterAll(async () => {
  for (const d of databases) await d.drop()
})

const tables = () => Effect.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => coveredTables((q) => sql.unsafe(q))).pipe(Effect.provide(sqlLayer(db))))

describe("the tables a backup covers", () => {
  it("include a table added after the backup code, its owned sequence, and not its generated column", async () => {
    const later = (await tables()).find((t) => t.name === "a_later_feature")
    expect(later).toEqual({ name: "a_later_feature", columns: ["id", "user_id", "note"], sequences: ["a_later_feature_id_seq"] })
  })

  it("leave out cluster_*, plexi_migrations, plexi_shard_holders, plexi_node_releases, plexi_backup* and views", async () => {
    const names = (await tables()).map((t) => t.name)
    for (const excluded of ["cluster_something_new", "cluster_runners", "cluster_messages", "plexi_migrations", "plexi_shard_holders", "plexi_node_releases", "plexi_backups", "plexi_backup_shards", "plexi_backup_scratch", "plexi_a_view"]) {
      expect(names).not.toContain(excluded)
    }
    for (const covered of ["plexi_users", "plexi_channels", "plexi_messages", "plexi_audit_log", "plexi_accounts", "plexi_webauthn_credentials"]) {
      expect(names).toContain(covered)
    }
  })

  it("put every table after the tables its foreign keys point to", async () => {
    const names = (await tables()).map((t) => t.name)
    const parents = await query(db, `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint f
      JOIN pg_class c ON c.oid = f.conrelid JOIN pg_class p ON p.oid = f.confrelid WHERE f.contype = 'f' AND c.oid <> p.oid`)
    const checked = parents.filter((r) => names.includes(r.child) && names.includes(r.parent))
    expect(checked.length).toBeGreaterThan(5)
    for (const { child, parent } of checked) expect(names.indexOf(parent), `${parent} before ${child}`).toBeLessThan(names.indexOf(child))
  })
})
