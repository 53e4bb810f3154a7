/**
 * Scheduled backups on one real embedded node: with PLEXI_BACKUP_FULL_SCHEDULE every 3 seconds the node starts full
 * backups by itself (ClusterCron), which commit.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { authClient } from "../fixtures/AuthClient.ts"
import { backupEnv, writeKeys } from "../fixtures/BackupJobFixture.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { ok, rpc } from "../fixtures/RpcCalls.ts"

const work = mkdtempSync(join(tmpdir(), "plexi-backup-schedule-"))
const keys = writeKeys(join(work, "keys"))
let node: NodeProcess
let token: string

beforeAll(async () => {
  node = await startNode({ name: "bk-scheduled", env: { ...backupEnv(keys, join(work, "shards")), PLEXI_BACKUP_FULL_SCHEDULE: "*/3 * * * * *" } })
  token = (await authClient(node.url).signUp("schedule-owner", "a long and unusual passphrase")).accessToken
}, 90_000)

afterAll(async () => {
  await node?.stop()
  rmSync(work, { recursive: true, force: true })
}, 60_000)

describe("scheduled backups", () => {
  it("starts full backups by itself on its schedule, which commit", async () => {
    await vi.waitFor(async () => {
      const backups = await ok(rpc(node, (c) => c.ListBackups({}), token))
      expect(backups.filter((b) => b.kind === "full" && b.state === "committed").length).toBeGreaterThanOrEqual(2)
    }, { timeout: 45_000, interval: 500 })
    expect(node.output()).toMatch(/scheduled full backup bk_[0-9a-z]{26} started/)
  }, 60_000)
})
