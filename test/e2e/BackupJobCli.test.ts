/**
 * `plexichat backup create|status|cancel --url …` as an operator runs them: the compiled CLI as a child process
 * against one real embedded node (PGlite, one shard store), signed in as the owner. The backup job runs on the node
 * (one replica, with a warning saying so), `create` follows it to its commit (plain progress lines on a pipe, a bar on a
 * pseudo-terminal, one object with `--json`), `status` reports it, `list --url` lists the catalog, `cancel` of a committed backup is refused, the node's gauge shows the
 * commit, and the manifest file with the node's shard directory alone restores into an empty Postgres database.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { execFile } from "node:child_process"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adminCli } from "../fixtures/AdminCli.ts"
import { authClient } from "../fixtures/AuthClient.ts"
import { postgresDatabase, tablesOf } from "../fixtures/BackupFixture.ts"
import { backupEnv, writeKeys } from "../fixtures/BackupJobFixture.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

const root = resolve(import.meta.dirname, "../..")
const work = mkdtempSync(join(tmpdir(), "plexi-backup-job-cli-"))
const keys = writeKeys(join(work, "keys"))
const shardDir = join(work, "second-disk", "shards")
const password = "a long and unusual passphrase"
const databases: Array<TestDatabase> = []
const cli = adminCli()
let node: NodeProcess
let env: Record<string, string>

beforeAll(async () => {
  node = await startNode({ name: "bk-embedded", env: backupEnv(keys, shardDir) })
  await authClient(node.url).signUp("embedded-owner", password)
  env = { PLEXI_USERNAME: "embedded-owner", PLEXI_PASSWORD: password }
}, 90_000)

afterAll(async () => {
  await node?.stop()
  for (const db of databases) await db.drop()
  cli.remove()
  rmSync(work, { recursive: true, force: true })
}, 60_000)

describe("plexichat backup against an embedded node", () => {
  let backupId: string

  it("create --url runs the job on the node and follows it to its commit, with one replica and a warning", async () => {
    const manifest = join(work, "manifest.json")
    const out = await cli.run(["backup", "create", "--url", node.url, "--json", "--manifest-out", manifest], env)
    expect(out.code, out.stderr).toBe(0)
    const value = JSON.parse(out.stdout.trim())
    expect(value).toMatchObject({ ok: true, state: "committed", kind: "full", percent: 100, error: null })
    expect(out.stderr).toBe("")
    backupId = value.backupId
    expect(readFileSync(manifest, "utf8")).toContain(backupId)
    expect(node.output()).toMatch(new RegExp(`backup ${backupId}: shard [0-9a-f]{64} stored on 1 node only \\(2 replicas wanted\\)`))
  }, 60_000)

  it("prints plain progress lines on a pipe, status reports the backup, and cancel refuses a committed one", async () => {
    const out = await cli.run(["backup", "create", "--url", node.url, "--incremental", "--manifest-out", join(work, "incremental.json")], env)
    expect(out.code, out.stderr).toBe(0)
    expect(out.stdout).toMatch(/^committed bk_[0-9a-z]{26}: \d+ shards, [\d.]+ MiB\n$/)
    expect(out.stderr).toMatch(/bk_[0-9a-z]{26} (snapshot|shard|verify|commit) \d+%/)
    const status = await cli.json(["backup", "status", "--url", node.url, backupId], env)
    expect(status).toMatchObject({ ok: true, backupId, state: "committed", step: "committed" })
    const listed = await cli.json(["backup", "list", "--url", node.url], env)
    expect(listed.backups.map((b: { kind: string; state: string }) => `${b.kind} ${b.state}`)).toEqual(["incremental committed", "full committed"])
    const cancel = await cli.run(["backup", "cancel", "--url", node.url, backupId], env)
    expect(cancel.code).toBe(1)
    expect(cancel.stderr).toContain("BackupNotRunning")
    const unknown = await cli.run(["backup", "status", "--url", node.url, "bk_nosuchbackup", "--json"], env)
    expect(unknown.code).toBe(1)
    expect(JSON.parse(unknown.stdout).error).toMatchObject({ _tag: "BackupNotFound", backupId: "bk_nosuchbackup" })
  }, 60_000)

  it("draws a progress bar on a terminal (a pseudo-terminal from script(1)), rewritten in place", async () => {
    const command = `${process.execPath} dist/runtime/cli/Main.js backup create --url ${node.url}`
    const out = await new Promise<string>((resolve, reject) => {
      execFile("script", ["-qefc", command, "/dev/null"], { cwd: root, env: { ...process.env, ...env, HOME: work }, timeout: 60_000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout))
    })
    expect(out).toMatch(/\r\[-{20}\] bk_[0-9a-z]{26} (snapshot|shard) 0%: /)
    // The last redraw ends with the erase-to-end-of-line sequence (ESC [ K) and the line's end.
    expect(out).toMatch(new RegExp(`\\r\\[#{20}\\] bk_[0-9a-z]{26} committed 100%: \\d+ shards, [\\d.]+ MiB${String.fromCharCode(27)}\\[K\\r?\\n`))
    expect(out).toMatch(/committed bk_[0-9a-z]{26}: \d+ shards/)
  }, 60_000)

  it("exports the newest commit time as plexichat_backup_last_success_timestamp_seconds", async () => {
    const status = await cli.json(["backup", "status", "--url", node.url, backupId], env)
    const text = await (await fetch(`${node.url}/metrics`)).text()
    const value = Number(/^plexichat_backup_last_success_timestamp_seconds (\S+)$/m.exec(text)?.[1])
    expect(value).toBeGreaterThanOrEqual(status.committedAt / 1000)
    expect(text).toMatch(/^plexichat_backup_failures_total 0$/m)
  })

  it("restores the full backup and its incremental from the manifest files and the node's shard directory alone", async () => {
    const target = await postgresDatabase(databases)
    const files = ["--manifest", join(work, "manifest.json"), "--manifest", join(work, "incremental.json")]
    const out = await cli.json(["backup", "restore", "--key", keys.recipientPrivate, "--target", target.url, ...files], {
      DATABASE_URL: "postgres://nowhere.invalid/none",
      PLEXI_BACKUP_SIGNING_KEY: keys.signingPrivate,
      PLEXI_BACKUP_SHARD_DIR: shardDir
    })
    expect(out).toMatchObject({ ok: true, backups: 2 })
    expect(await tablesOf(target)).toContain("plexi_accounts")
  }, 60_000)
})
