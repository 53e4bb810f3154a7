/**
 * The shard store of a single embedded node (PGlite, no runner network): its directory is PLEXI_BACKUP_SHARD_DIR
 * (here a second directory, standing for a second disk), and the scheduled scrub reads every shard in it. With one
 * replica nothing can be repaired, so a copy that no longer matches its hash is reported as corrupt and as a shard
 * with no good copy left, while an intact shard is left as it is.
 */
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it, vi } from "vitest"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
const dir = fs.mkdtempSync(path.join(tmpdir(), "plexi-embedded-shards-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const put = (hash: string, bytes: Uint8Array) => {
  fs.mkdirSync(path.join(dir, hash.slice(0, 2)), { recursive: true })
  fs.writeFileSync(path.join(dir, hash.slice(0, 2), hash), bytes)
}

describe("the shard store of a single embedded node", () => {
  const intact = randomBytes(2048)
  const original = randomBytes(2048)
  const corrupt = Buffer.from(original)
  corrupt[7]! ^= 0x01
  put(sha256(intact), intact)
  put(sha256(original), corrupt)
  const node = nodeForSuite({ env: { PLEXI_BACKUP_SHARD_DIR: dir, PLEXI_BACKUP_SCRUB_INTERVAL: "1 second" } })

  it("scrubs its directory on schedule, reporting a corrupt copy it cannot repair (kept as it is) and leaving the intact one", async () => {
    const hash = sha256(original)
    await vi.waitFor(() => {
      const line = node().output().split("\n").find((l) => l.includes("backup shard scrub:"))
      expect(line).toBeDefined()
      expect(line).toContain("2 shards on 1 stores; 2 copies checked")
      expect(line).toContain(`corrupt copy of ${hash} on local`)
      expect(line).toContain(`shard ${hash} has no good copy left`)
    }, { timeout: 20_000, interval: 100 })
    expect(fs.readFileSync(path.join(dir, sha256(intact).slice(0, 2), sha256(intact))).equals(intact)).toBe(true)
    // The corrupt copy is kept for the operator: there is nothing to write in its place.
    expect(fs.readFileSync(path.join(dir, hash.slice(0, 2), hash)).equals(corrupt)).toBe(true)
  }, 30_000)
})
