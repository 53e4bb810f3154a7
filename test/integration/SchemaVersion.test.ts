/**
 * The schema version: `plexichat migrate --dry-run` lists what would run and
 * changes nothing, `plexichat migrate` runs it, and a node older than the
 * schema (the database records a migration it does not know) refuses to
 * start with a clear error, as does the CLI's migrate.
 */
import { afterAll, describe, expect, it } from "vitest"
import { knownSteps } from "../../runtime/sql/Migrations.ts"
import { adminCli } from "../fixtures/AdminCli.ts"
import { rowsOf } from "../fixtures/AuditCli.ts"
import { startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

describe("schema version", () => {
  const databases: Array<TestDatabase> = []
  const cli = adminCli()
  afterAll(async () => {
    cli.remove()
    await Promise.all(databases.map((db) => db.drop()))
  })
  const fresh = async () => {
    const db = await makeTestDatabase()
    databases.push(db)
    expect(db.kind, "these tests need the real Postgres at 127.0.0.1:5432").toBe("postgres")
    return db
  }

  it("migrate --dry-run lists every pending migration and changes nothing; migrate runs them and the cluster's tables", async () => {
    const db = await fresh()
    const dry = await cli.run(["migrate", "--dry-run"], { DATABASE_URL: db.url })
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/schema at 0, this release knows up to 14/)
    expect(dry.stdout).toContain("would run")
    expect(dry.stdout).toContain("0001_chat_core")
    expect(dry.stdout).toContain("0013_feature_flags")
    expect(dry.stdout).toContain("0014_backup_jobs")
    expect(await rowsOf(db, "SELECT to_regclass('plexi_migrations') IS NULL AS absent")).toEqual([{ absent: true }])

    const ran = await cli.run(["migrate"], { DATABASE_URL: db.url })
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.stdout).toContain("done: schema at 14")
    expect(await rowsOf(db, "SELECT max(migration_id) AS v FROM plexi_migrations")).toEqual([{ v: 14 }])
    expect(await rowsOf(db, "SELECT to_regclass('cluster_runners') IS NOT NULL AS present")).toEqual([{ present: true }])
    const again = await cli.json(["migrate", "--dry-run"], { DATABASE_URL: db.url })
    expect(again).toMatchObject({ schemaVersion: 14, nodeVersion: 14, pending: [], refused: null })
  })

  it("a node older than the schema refuses to start, naming the versions, and migrate refuses too", async () => {
    const db = await fresh()
    expect((await cli.run(["migrate"], { DATABASE_URL: db.url })).code).toBe(0)
    await rowsOf(db, "INSERT INTO plexi_migrations (migration_id, name) VALUES (9999, 'from_the_future')")
    const start = startNode({ databaseUrl: db.url })
    await expect(start).rejects.toThrow(/schema is at migration 9999 \(9999_from_the_future unknown to this node\).*older than the schema/)
    const refused = await cli.run(["migrate", "--dry-run"], { DATABASE_URL: db.url })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("the schema is newer than this release (9999_from_the_future)")
    // Nothing ran: this release's migrations and the planted row, no more.
    expect(await rowsOf(db, "SELECT count(*)::int AS n FROM plexi_migrations")).toEqual([{ n: knownSteps.length + 1 }])
  })
})
