/**
 * The maintenance singleton's scheduled garbage collection on a single embedded node: a shard in its store that no
 * backup of the catalog references (left by a killed process) is removed on the next PLEXI_BACKUP_GC_INTERVAL, and
 * the pass says so in one log line; with no signing key on the node the manifest scrub says it skipped.
 */
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it, vi } from "vitest"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

const dir = fs.mkdtempSync(path.join(tmpdir(), "plexi-embedded-gc-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("scheduled backup shard garbage collection on an embedded node", () => {
  const orphan = randomBytes(512)
  const hash = createHash("sha256").update(orphan).digest("hex")
  const file = path.join(dir, hash.slice(0, 2), hash)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, orphan)
  const node = nodeForSuite({ env: { PLEXI_BACKUP_SHARD_DIR: dir, PLEXI_BACKUP_GC_INTERVAL: "1 second", PLEXI_BACKUP_SCRUB_INTERVAL: "1 second" } })

  it("removes a shard no backup references and logs the pass; the manifest scrub says it skipped without a key", async () => {
    await vi.waitFor(() => {
      const line = node().output().split("\n").find((l) => l.includes("backup retention:"))
      expect(line).toContain("backup retention: no policy; gc: 1 shards stored, 0 referenced, 1 unreferenced, 1 removed")
    }, { timeout: 20_000, interval: 100 })
    expect(fs.existsSync(file)).toBe(false)
    await vi.waitFor(() => expect(node().output()).toContain("backup manifest scrub skipped: PLEXI_BACKUP_SIGNING_PUBLIC"), { timeout: 20_000, interval: 100 })
  }, 30_000)
})
