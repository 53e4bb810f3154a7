/**
 * `plexichat backup drill|scrub|repair|prune|gc` and `restore --channel` as an operator runs them (the compiled CLI
 * as a child process, real Postgres, shards in a directory), and a restoring CLI killed with SIGKILL mid-restore
 * leaving its target without a table.
 */
import { execFile, spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { migrated, postgresDatabase, query, seed, tablesOf } from "../fixtures/BackupFixture.ts"
import { buildOnce } from "../fixtures/NodeProcess.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

const root = resolve(import.meta.dirname, "../..")
const work = mkdtempSync(join(tmpdir(), "plexi-backup-ops-"))
const shardDir = join(work, "shards")
const recipientKey = join(work, "ops", "backup-recipient.key")
const databases: Array<TestDatabase> = []
let source: TestDatabase
let backupId: string
let firstShards: number

const env = (extra: Record<string, string>) => ({
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "/tmp",
  DATABASE_URL: source.url,
  PLEXI_BACKUP_RECIPIENTS: join(work, "ops", "backup-recipient.pub"),
  PLEXI_BACKUP_SIGNING_KEY: join(work, "cluster", "backup-signing.key"),
  PLEXI_BACKUP_SHARD_DIR: shardDir,
  ...extra
})

const run = (args: Array<string>, extra: Record<string, string> = {}) => {
  buildOnce()
  return promisify(execFile)(process.execPath, ["dist/runtime/cli/Main.js", ...args], { cwd: root, env: env(extra), timeout: 120_000 }).then(
    ({ stderr, stdout }) => ({ code: 0, stdout, stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" })
  )
}

const json = async (args: Array<string>, extra: Record<string, string> = {}) => {
  const out = await run([...args.slice(0, 2), "--json", ...args.slice(2)], extra)
  return { ...out, value: JSON.parse(out.stdout.trim().split("\n").at(-1) || "null") }
}

beforeAll(async () => {
  source = await postgresDatabase(databases)
  await migrated(source)
  await seed(source, 12_000, 300)
  for (const [kind, dir] of [["generate-recipient", "ops"], ["generate-signing", "cluster"]]) {
    expect((await run(["backup", "keys", kind!, "--out", join(work, dir!)])).code).toBe(0)
  }
  const created = await json(["backup", "create"])
  expect(created.code, created.stderr).toBe(0)
  backupId = created.value.backupId
  firstShards = created.value.shards
}, 180_000)

afterAll(async () => {
  for (const db of databases) await db.drop()
  rmSync(work, { recursive: true, force: true })
})

describe("plexichat backup operations", () => {
  it("drill restores the newest chain into a scratch schema, finds it equal, and reports the recovery point and time", async () => {
    const out = await json(["backup", "drill", "--key", recipientKey])
    expect(out.code, out.stderr).toBe(0)
    expect(out.value).toMatchObject({ ok: true, mismatches: [], backupTime: expect.any(Number), recoveryTimeMs: expect.any(Number), restored: { backupId } })
    expect(await query(source, "SELECT 1 FROM pg_namespace WHERE nspname LIKE 'plexi_drill_%'")).toEqual([])
  })

  it("scrub passes a sound store and names a corrupt shard copy, exiting 1; repair reports the one store", async () => {
    expect(await json(["backup", "scrub"])).toMatchObject({ code: 0, value: { ok: true, manifests: { manifests: 1, problems: [] } } })
    const [prefix] = readdirSync(shardDir).sort()
    const name = readdirSync(join(shardDir, prefix!))[0]!
    const file = join(shardDir, prefix!, name)
    const original = readFileSync(file)
    const bytes = Buffer.from(original)
    bytes[10]! ^= 0x01
    writeFileSync(file, bytes)
    try {
      const out = await json(["backup", "scrub"])
      expect(out.code).toBe(1)
      expect(out.value.shards.corrupt).toEqual([{ hash: name, node: "local" }])
    } finally {
      writeFileSync(file, original)
    }
    expect(await json(["backup", "repair"])).toMatchObject({ code: 0, value: { ok: true, nodes: ["local"] } })
  })

  it("restore --channel --as auto copies one channel into the live database under a new id", async () => {
    const out = await json(["backup", "restore", "--key", recipientKey, "--channel", "c2", "--as", "auto", backupId])
    expect(out.code, out.stderr).toBe(0)
    expect(out.value).toMatchObject({ ok: true, channel: "c2", newId: expect.stringMatching(/^c_/), members: 1, messages: 6000, skippedMembers: [] })
    const taken = await json(["backup", "restore", "--key", recipientKey, "--channel", "c2", "--as", out.value.newId, backupId])
    expect(taken).toMatchObject({ code: 1, value: { ok: false, error: { _tag: "ChannelIdTaken", channelId: out.value.newId } } })
  })

  it("a restoring CLI killed with SIGKILL mid-restore leaves the target without a table", async () => {
    buildOnce()
    const target = await postgresDatabase(databases)
    const child = spawn(process.execPath, ["dist/runtime/cli/Main.js", "backup", "restore", "--key", recipientKey, "--target", target.url, backupId], { cwd: root, env: env({}), stdio: "ignore" })
    const writing = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'plexichat-cli' AND backend_xid IS NOT NULL`
    await vi.waitFor(async () => expect((await query(target, writing))[0]!.n).toBe(1), { timeout: 60_000, interval: 10 })
    child.kill("SIGKILL")
    await vi.waitFor(() => expect(child.signalCode).toBe("SIGKILL"), { timeout: 10_000 })
    const connected = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'plexichat-cli'`
    await vi.waitFor(async () => expect((await query(target, connected))[0]!.n).toBe(0), { timeout: 30_000, interval: 50 })
    expect(await tablesOf(target)).toEqual([])
  })

  it("prune applies PLEXI_BACKUP_KEEP_FULL (dry run first) and removes the expired backup's shards; gc finds nothing left", async () => {
    const second = await json(["backup", "create"])
    expect(second.code, second.stderr).toBe(0)
    const policy = { PLEXI_BACKUP_KEEP_FULL: "1" }
    const dry = await json(["backup", "prune", "--dry-run"], policy)
    expect(dry).toMatchObject({ code: 0, value: { expired: [{ id: backupId }], deleted: 0, gc: { removed: 0 } } })
    const done = await json(["backup", "prune"], policy)
    expect(done).toMatchObject({ code: 0, value: { deleted: 1, gc: { removed: firstShards, stored: firstShards + second.value.shards } } })
    expect((await json(["backup", "list"])).value.backups.map((b: { id: string }) => b.id)).toEqual([second.value.backupId])
    expect(await json(["backup", "gc", "--dry-run"])).toMatchObject({ code: 0, value: { unreferenced: [], stored: second.value.shards, referenced: second.value.shards } })
  })
})
