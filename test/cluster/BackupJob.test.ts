/**
 * The durable backup job on two real node processes sharing one Postgres, R = 2, each shard paused 400 ms before
 * it is stored (PLEXI_BACKUP_TEST_SHARD_DELAY) so that the test can act mid-backup:
 *
 * - FollowBackup streams the job's progress (shards and percent never going back) until it is committed;
 * - after kill -9 of the node running a backup, the other node resumes it from its last stored shard: the shards
 *   stored before the kill are the manifest's first ones, same hashes (not sealed again: nonces are random) and
 *   same files (not stored again: unchanged mtime and inode); it commits, verifies and restores;
 * - a second StartBackup while one runs is BackupAlreadyRunning naming it;
 * - CancelBackup stops a running backup: its entry is failed with the reason "cancelled" and none of its shards
 *   or job state is left.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { adminCli } from "../fixtures/AdminCli.ts"
import { authClient } from "../fixtures/AuthClient.ts"
import { contents, migrated, postgresDatabase, query, seed } from "../fixtures/BackupFixture.ts"
import { backupEnv, backupStatus, followBackup, startBackup, writeKeys } from "../fixtures/BackupJobFixture.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { ok, rpc } from "../fixtures/RpcCalls.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

const work = mkdtempSync(join(tmpdir(), "plexi-backup-job-"))
const keys = writeKeys(join(work, "keys"))
const databases: Array<TestDatabase> = []
let source: TestDatabase
const nodes: Record<string, NodeProcess> = {}
const dirOf = (name: string) => join(work, `shards-${name}`)
const fileOf = (name: string, hash: string) => join(dirOf(name), hash.slice(0, 2), hash)
const filesIn = (name: string) =>
  existsSync(dirOf(name)) ? readdirSync(dirOf(name)).flatMap((p) => readdirSync(join(dirOf(name), p)).filter((f) => /^[0-9a-f]{64}$/.test(f))) : []
let token: string

const start = (name: string) =>
  startNode({ name, databaseUrl: source.url, env: backupEnv(keys, dirOf(name), "400 millis") }).then((n) => (nodes[name] = n))

const recorded = async (backupId: string) =>
  (await query(source, `SELECT hash FROM plexi_backup_shards WHERE backup_id = $1 ORDER BY idx`, [backupId])).map((r) => String(r.hash))

const awaitEnd = (node: NodeProcess, backupId: string, timeout = 90_000) =>
  vi.waitFor(async () => {
    const view = await backupStatus(node, token, backupId)
    expect(view.state).not.toBe("running")
    return view
  }, { timeout, interval: 200 })

beforeAll(async () => {
  source = await postgresDatabase(databases)
  await migrated(source)
  // About 9 MiB of messages: 9 or 10 shards of 1 MiB.
  await seed(source, 9000, 1000)
  await Promise.all([start("bj-a"), start("bj-b")])
  token = (await authClient(nodes["bj-a"]!.url).signUp("backup-owner", "a long and unusual passphrase")).accessToken
  // The seed's accounts came first: make this one an owner (the role is read from the store on every call).
  await query(source, `UPDATE plexi_accounts SET role = 'owner' WHERE username = 'backup-owner'`)
}, 120_000)

afterAll(async () => {
  await Promise.all(Object.values(nodes).map((n) => n.stop()))
  for (const db of databases) await db.drop()
  rmSync(work, { recursive: true, force: true })
}, 60_000)

describe("the backup job on two nodes", () => {
  it("streams its progress until it is committed, shards and percent never going back", async () => {
    const started = await startBackup(nodes["bj-a"]!, token)
    expect(started).toMatchObject({ state: "running", kind: "full", parent: null })
    const views = await followBackup(nodes["bj-b"]!, token, started.backupId)
    const last = views.at(-1)!
    expect(last).toMatchObject({ backupId: started.backupId, state: "committed", step: "committed", percent: 100, error: null })
    expect(last.manifest).toContain(started.backupId)
    expect(last.shards).toBeGreaterThanOrEqual(9)
    expect(views.some((v) => v.step === "shard" && v.shards > 0 && v.shards < last.shards && v.rate > 0 && v.attempts === 1)).toBe(true)
    for (let i = 1; i < views.length; i++) {
      expect(views[i]!.shards).toBeGreaterThanOrEqual(views[i - 1]!.shards)
      expect(views[i]!.percent).toBeGreaterThanOrEqual(views[i - 1]!.percent)
    }
    expect(await query(source, `SELECT * FROM plexi_backup_jobs`)).toEqual([])
  }, 120_000)

  it("resumes on the other node after kill -9 of the node running it, without storing the finished shards again", async () => {
    const started = await startBackup(nodes["bj-b"]!, token)
    const running = await vi.waitFor(async () => {
      const view = await backupStatus(nodes["bj-b"]!, token, started.backupId)
      expect(view.shards).toBeGreaterThanOrEqual(3)
      return view
    }, { timeout: 60_000, interval: 50 })
    const victim = running.runner!
    const survivor = victim === "bj-a" ? "bj-b" : "bj-a"
    const killedAt = Date.now()
    await nodes[victim]!.kill9()
    const cli = adminCli()
    try {
      const before = await recorded(started.backupId)
      expect(before.length).toBeGreaterThanOrEqual(3)
      const stamps = before.map((hash) => {
        const s = statSync(fileOf(survivor, hash))
        return { hash, mtimeMs: s.mtimeMs, ino: s.ino }
      })
      const resumeLine = `backup ${started.backupId}: resuming from its shard step on ${survivor}`
      await vi.waitFor(() => expect(nodes[survivor]!.output()).toContain(resumeLine), { timeout: 60_000, interval: 50 })
      const resumedAt = Date.now()
      const final = await awaitEnd(nodes[survivor]!, started.backupId)
      console.log(`backup job: resumed ${resumedAt - killedAt} ms after kill -9, committed ${Date.now() - killedAt} ms after it (${before.length} shards kept)`)
      expect(final).toMatchObject({ state: "committed", error: null })
      const after = await recorded(started.backupId)
      // The same shards first (a shard sealed again would have another hash: nonces are random), the same files.
      expect(after.slice(0, before.length)).toEqual(before)
      expect(after.length).toBeGreaterThan(before.length)
      for (const { hash, ino, mtimeMs } of stamps) expect(statSync(fileOf(survivor, hash))).toMatchObject({ ino, mtimeMs })

      const env = { DATABASE_URL: source.url, PLEXI_BACKUP_SIGNING_KEY: keys.signingPrivate, PLEXI_BACKUP_SHARD_DIR: dirOf(survivor) }
      const verified = await cli.json(["backup", "verify", "--key", keys.recipientPrivate, started.backupId], env)
      expect(verified).toMatchObject({ ok: true, shards: after.length, decrypted: true })
      const target = await postgresDatabase(databases)
      const restored = await cli.json(["backup", "restore", "--key", keys.recipientPrivate, "--target", target.url, started.backupId], env)
      expect(restored).toMatchObject({ ok: true, backupId: started.backupId })
      const [mine, theirs] = [await contents(target), await contents(source)]
      expect(mine.plexi_messages).toEqual(theirs.plexi_messages)
      expect(mine.plexi_channels).toEqual(theirs.plexi_channels)
    } finally {
      cli.remove()
      await start(victim)
    }
  }, 180_000)

  it("refuses a second start, and cancels a running backup: failed with the reason cancelled, none of its shards or job state left", async () => {
    const held = new Set([...filesIn("bj-a"), ...filesIn("bj-b")])
    const started = await startBackup(nodes["bj-a"]!, token)
    await vi.waitFor(async () => expect((await backupStatus(nodes["bj-a"]!, token, started.backupId)).shards).toBeGreaterThanOrEqual(2), {
      timeout: 60_000,
      interval: 50
    })
    const second = await rpc(nodes["bj-b"]!, (c) => c.StartBackup({ kind: "full" }), token)
    expect(second).toMatchObject({ _tag: "Left", left: { _tag: "BackupAlreadyRunning", backupId: started.backupId } })
    const cancelled = await ok(rpc(nodes["bj-b"]!, (c) => c.CancelBackup({ backupId: started.backupId }), token))
    expect(cancelled).toMatchObject({ backupId: started.backupId, state: "failed", error: "cancelled", shards: 0 })
    expect([...filesIn("bj-a"), ...filesIn("bj-b")].filter((f) => !held.has(f))).toEqual([])
    expect(await recorded(started.backupId)).toEqual([])
    expect(await query(source, `SELECT * FROM plexi_backup_jobs`)).toEqual([])
    const again = await rpc(nodes["bj-a"]!, (c) => c.CancelBackup({ backupId: started.backupId }), token)
    expect(again).toMatchObject({ _tag: "Left", left: { _tag: "BackupNotRunning", state: "failed" } })
  }, 120_000)
})
