/**
 * `plexichat backup create|list|verify|restore` as an operator runs them: the compiled CLI as a child process
 * against real Postgres, keys made by `backup keys`, shards in a directory. A backup made by `create` restores row
 * for row into an empty database (from the catalog or from the manifest file alone); a flipped byte in a shard
 * fails `verify` and `restore` with the backup and shard named; another recipient's key is refused; the target is
 * left without a table.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { contents, migrated, postgresDatabase, query, seed, tablesOf } from "../fixtures/BackupFixture.ts"
import { buildOnce } from "../fixtures/NodeProcess.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

const root = resolve(import.meta.dirname, "../..")
const work = mkdtempSync(join(tmpdir(), "plexi-backup-cli-"))
const shardDir = join(work, "shards")
const databases: Array<TestDatabase> = []
let source: TestDatabase

const run = (args: Array<string>, env: Record<string, string> = {}) => {
  buildOnce()
  return promisify(execFile)(process.execPath, ["dist/runtime/cli/Main.js", ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: source.url,
      PLEXI_BACKUP_RECIPIENTS: join(work, "ops", "backup-recipient.pub"),
      PLEXI_BACKUP_SIGNING_KEY: join(work, "cluster", "backup-signing.key"),
      PLEXI_BACKUP_SHARD_DIR: shardDir,
      ...env
    },
    timeout: 120_000
  }).then(
    ({ stderr, stdout }) => ({ code: 0, stdout, stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" })
  )
}

const json = async (args: Array<string>, env?: Record<string, string>) => {
  const out = await run([...args.slice(0, 2), "--json", ...args.slice(2)], env)
  return { ...out, value: JSON.parse(out.stdout.trim().split("\n").at(-1) ?? "null") }
}

let backupId: string

beforeAll(async () => {
  source = await postgresDatabase(databases)
  await migrated(source)
  await seed(source, 6000, 300)
  expect((await run(["backup", "keys", "generate-recipient", "--out", join(work, "ops")])).code).toBe(0)
  expect((await run(["backup", "keys", "generate-recipient", "--out", join(work, "other")])).code).toBe(0)
  expect((await run(["backup", "keys", "generate-signing", "--out", join(work, "cluster")])).code).toBe(0)
  const created = await json(["backup", "create", "--manifest-out", join(work, "manifest.json")])
  expect(created.code, created.stderr).toBe(0)
  backupId = created.value.backupId
}, 180_000)

afterAll(async () => {
  for (const db of databases) await db.drop()
  rmSync(work, { recursive: true, force: true })
})

describe("plexichat backup", () => {
  it("create commits a backup that list shows and verify checks, shards decrypted with the recipient's key", async () => {
    const listed = await json(["backup", "list"])
    expect(listed.value.backups).toEqual([expect.objectContaining({ id: backupId, state: "committed", kind: "full", shards: 2 })])
    const verified = await json(["backup", "verify", "--key", join(work, "ops", "backup-recipient.key"), backupId])
    expect(verified.code, verified.stderr).toBe(0)
    expect(verified.value).toEqual({ ok: true, backupId, shards: 2, decrypted: true })
  })

  it("restore puts every covered table into an empty database, from the catalog and from the manifest file alone", async () => {
    for (const from of [[backupId], ["--manifest", join(work, "manifest.json")]]) {
      const target = await postgresDatabase(databases)
      const env = from[0] === "--manifest" ? { DATABASE_URL: "postgres://nowhere.invalid/none" } : {}
      const restored = await json(["backup", "restore", "--key", join(work, "ops", "backup-recipient.key"), "--target", target.url, ...from], env)
      expect(restored.code, restored.stderr).toBe(0)
      expect(restored.value).toMatchObject({ ok: true, backupId, shards: 2 })
      expect(await contents(target)).toEqual(await contents(source))
    }
  })

  it("restore shows its progress on stderr: a line per 10 % on a pipe, a bar rewritten in place on a terminal", async () => {
    const key = join(work, "ops", "backup-recipient.key")
    const piped = await run(["backup", "restore", "--key", key, "--target", (await postgresDatabase(databases)).url, backupId])
    expect(piped.code, piped.stderr).toBe(0)
    expect(piped.stderr).toMatch(new RegExp(`^restore ${backupId} 50%: 1/2 shards, [\\d.]+ MiB`, "m"))
    expect(piped.stderr).toMatch(new RegExp(`^restore ${backupId} 100%: 2/2 shards, [\\d.]+ MiB`, "m"))
    expect(piped.stdout).toMatch(new RegExp(`^restored ${backupId} \\(1 backups\\): \\d+ tables, \\d+ rows from 2 shards`))
    const target = await postgresDatabase(databases)
    const command = `${process.execPath} dist/runtime/cli/Main.js backup restore --key ${key} --target ${target.url} ${backupId}`
    const env = {
      ...process.env,
      DATABASE_URL: source.url,
      PLEXI_BACKUP_RECIPIENTS: join(work, "ops", "backup-recipient.pub"),
      PLEXI_BACKUP_SIGNING_KEY: join(work, "cluster", "backup-signing.key"),
      PLEXI_BACKUP_SHARD_DIR: shardDir
    }
    const terminal = await new Promise<string>((resolve, reject) => {
      execFile("script", ["-qefc", command, "/dev/null"], { cwd: root, env, timeout: 60_000 }, (error, stdout) => error ? reject(error) : resolve(stdout))
    })
    expect(terminal).toMatch(new RegExp(`\\r\\[#{10}-{10}\\] restore ${backupId} 50%: 1/2 shards`))
    expect(terminal).toMatch(new RegExp(`\\r\\[#{20}\\] restore ${backupId} 100%: 2/2 shards, [\\d.]+ MiB[^\\r\\n]*${String.fromCharCode(27)}\\[K\\r?\\n`))
    expect(await contents(target)).toEqual(await contents(source))
  })

  it("refuses another recipient's key with the backup named, leaving the target empty", async () => {
    const target = await postgresDatabase(databases)
    const out = await json(["backup", "restore", "--key", join(work, "other", "backup-recipient.key"), "--target", target.url, backupId])
    expect(out.code).toBe(1)
    expect(out.value.error).toMatchObject({ _tag: "RestoreFailed", backup: backupId, shard: null })
    expect(out.stderr).toContain("RecipientNotFound")
    expect(await tablesOf(target)).toEqual([])
  })

  it("names the shard with a flipped byte in verify and restore, and restores nothing", async () => {
    const [prefix] = readdirSync(shardDir).sort()
    const name = readdirSync(join(shardDir, prefix!))[0]!
    const file = join(shardDir, prefix!, name)
    const original = readFileSync(file)
    const bytes = Buffer.from(original)
    bytes[bytes.length - 5]! ^= 0x80
    writeFileSync(file, bytes)
    try {
      const verified = await json(["backup", "verify", backupId])
      expect(verified.code).toBe(1)
      expect(verified.value.error).toMatchObject({ _tag: "RestoreFailed", backup: backupId, shard: expect.stringContaining(name) })
      const target = await postgresDatabase(databases)
      const restored = await json(["backup", "restore", "--key", join(work, "ops", "backup-recipient.key"), "--target", target.url, backupId])
      expect(restored.code).toBe(1)
      expect(restored.value.error).toMatchObject({ backup: backupId, shard: expect.stringContaining(name) })
      expect(await tablesOf(target)).toEqual([])
    } finally {
      writeFileSync(file, original)
    }
  })

  it("create --incremental makes a child of the newest backup, and restore of it brings the whole chain", async () => {
    await query(source, `INSERT INTO plexi_messages (channel_id, seq, author_id, client_msg_id, body, created_at) VALUES ('c1', 99999, 'u1', 'later', 'later', 99999)`)
    await query(source, `UPDATE plexi_users SET display_name = 'renamed' WHERE id = 'u2'`)
    const created = await json(["backup", "create", "--incremental"])
    expect(created.code, created.stderr).toBe(0)
    expect(created.value).toMatchObject({ ok: true, kind: "incremental", parent: backupId })
    const target = await postgresDatabase(databases)
    const restored = await json(["backup", "restore", "--key", join(work, "ops", "backup-recipient.key"), "--target", target.url, created.value.backupId])
    expect(restored.code, restored.stderr).toBe(0)
    expect(restored.value).toMatchObject({ ok: true, backupId: created.value.backupId, backups: 2 })
    expect(await contents(target)).toEqual(await contents(source))
  })

  it("restore --until a time before the first backup fails with that said, leaving the target empty", async () => {
    const target = await postgresDatabase(databases)
    const out = await json(["backup", "restore", "--key", join(work, "ops", "backup-recipient.key"), "--target", target.url, "--until", "2000-01-01T00:00:00Z", backupId])
    expect(out.code).toBe(1)
    expect(out.value.error).toMatchObject({ _tag: "RestoreFailed", backup: backupId })
    expect(out.value.error.reason).toContain("2000-01-01T00:00:00.000Z is before the chain's first backup")
    expect(await tablesOf(target)).toEqual([])
  })
})
