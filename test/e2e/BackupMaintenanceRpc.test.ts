/**
 * `plexichat backup scrub --url` and `backup repair --url`: the passes run by a real embedded node through the admin
 * RPCs (domain/BackupMaintenanceRpcs.ts) over its own store, for an owner; refused to a member (Forbidden).
 */
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adminCli } from "../fixtures/AdminCli.ts"
import { authClient } from "../fixtures/AuthClient.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"

const password = "a long and unusual passphrase"
const dir = fs.mkdtempSync(path.join(tmpdir(), "plexi-rpc-shards-"))
const original = randomBytes(1024)
const hash = createHash("sha256").update(original).digest("hex")
const corrupt = Buffer.from(original)
corrupt[3]! ^= 0x01
fs.mkdirSync(path.join(dir, hash.slice(0, 2)), { recursive: true })
fs.writeFileSync(path.join(dir, hash.slice(0, 2), hash), corrupt)

describe("backup maintenance through a node's admin RPCs", () => {
  let node: NodeProcess
  const cli = adminCli()
  beforeAll(async () => {
    node = await startNode({ env: { PLEXI_BACKUP_SHARD_DIR: dir } })
    await authClient(node.url).signUp("bk-owner", password)
    await authClient(node.url).signUp("bk-member", password)
  }, 60_000)
  afterAll(async () => {
    await node?.stop()
    cli.remove()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const as = (username: string, args: Array<string>) =>
    cli.run(["backup", ...args, "--url", node.url, "--username", username, "--json"], { PLEXI_PASSWORD: password })

  it("scrub --url runs the node's scrub and names the corrupt copy (exit 1); repair --url runs its repair", async () => {
    const scrubbed = await as("bk-owner", ["scrub"])
    expect(scrubbed.code, scrubbed.stderr).toBe(1)
    const value = JSON.parse(scrubbed.stdout.trim().split("\n").at(-1)!)
    expect(value).toMatchObject({ ok: false, shards: { nodes: ["local"], copiesChecked: 1, corrupt: [{ hash, node: "local" }], lost: [hash] }, manifests: null })
    const repaired = await as("bk-owner", ["repair"])
    expect(repaired.code, repaired.stderr).toBe(0)
    expect(JSON.parse(repaired.stdout.trim().split("\n").at(-1)!)).toMatchObject({ ok: true, nodes: ["local"], shards: 1 })
  })

  it("refuses a member with Forbidden", async () => {
    const refused = await as("bk-member", ["scrub"])
    expect(refused.code).not.toBe(0)
    expect(refused.stdout + refused.stderr).toContain("only workspace owners and admins may scrub the backup shards")
  })
})
