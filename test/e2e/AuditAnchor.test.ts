/**
 * Anchoring the audit chain's head outside the database, against real
 * Postgres with the CLI as a real process: `plexichat audit head` prints
 * the newest entry's seq and hash, and `audit verify --anchor <seq>:<hash>`
 * fails, naming why, once the log no longer holds that row with that hash:
 * cut off past it with the head row rewritten, or rewritten with every later
 * hash recomputed (both of which a plain verify takes for a valid chain).
 * REST and RPC answer the same head to owners and admins only.
 */
import { afterEach, describe, expect, it } from "vitest"
import { auditLogWith, cli, rowsOf, tamper } from "../fixtures/AuditCli.ts"
import { authClient, call } from "../fixtures/AuthClient.ts"
import { startNode } from "../fixtures/NodeProcess.ts"
import { failure, ok, rpc } from "../fixtures/RpcCalls.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const databases: Array<TestDatabase> = []
afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.drop()))
})
const logWith = (n: number) => auditLogWith(n, databases)

describe("audit chain anchors", () => {
  /** `audit head --json` as a process: the anchor of the log now. */
  const headOf = async (db: TestDatabase) => {
    const run = await cli(db.url, ["audit", "head", "--json"])
    expect(run.code, run.stderr).toBe(0)
    return JSON.parse(run.stdout) as { seq: number; hash: string; at: number | null; anchor: string }
  }

  /** Row `seq` as the writer would hash it with `changes`, linked to `prevHash`. */
  const rehashed = async (db: TestDatabase, seq: number, prevHash: string, changes: Record<string, unknown> = {}) => {
    const { hashOf } = await import("../../src/audit/AuditChain.ts")
    const row = (await rowsOf(db, "SELECT * FROM plexi_audit_log WHERE seq = $1", [seq]))[0]
    const fields = { seq, at: Number(row.at), actor: row.actor, action: row.action, target: row.target, ip: row.ip, node: row.node, details: row.details, prevHash, ...changes }
    return { ...fields, hash: hashOf(fields) }
  }

  it("prints the head (plain and JSON) and verifies an anchor that still holds", async () => {
    const db = await logWith(10)
    const head = await headOf(db)
    const last = (await rowsOf(db, "SELECT seq, hash, at FROM plexi_audit_log ORDER BY seq DESC LIMIT 1"))[0]
    expect(head).toEqual({ seq: 10, hash: last.hash, at: Number(last.at), anchor: `10:${last.hash}` })
    const plain = await cli(db.url, ["audit", "head"])
    expect(plain.stdout.trim()).toBe(`head: row 10 at ${new Date(Number(last.at)).toISOString()}, hash ${last.hash}; anchor 10:${last.hash}`)
    const run = await cli(db.url, ["audit", "verify", "--anchor", head.anchor])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`anchor ${head.anchor} holds`)
    expect(await headOf(await logWith(0))).toEqual({ seq: 0, hash: "0".repeat(64), at: null, anchor: `0:${"0".repeat(64)}` })
    const bad = await cli(db.url, ["audit", "verify", "--anchor", "10:not-a-hash"])
    expect(bad.code).not.toBe(0)
    expect(bad.stdout + bad.stderr).toContain("--anchor: <seq>:<hash>")
  }, 120_000)

  it("fails an anchor past a log cut off with its head row rewritten, which verifies without one", async () => {
    const db = await logWith(10)
    const anchor = (await headOf(db)).anchor
    const row7 = (await rowsOf(db, "SELECT hash FROM plexi_audit_log WHERE seq = 7"))[0].hash as string
    await tamper(db, "DELETE FROM plexi_audit_log WHERE seq > 7", `UPDATE plexi_audit_head SET seq = 7, hash = '${row7}' WHERE id = 1`)
    expect((await cli(db.url, ["audit", "verify"])).stdout).toMatch(/^ok: 7 rows/m)
    const run = await cli(db.url, ["audit", "verify", "--anchor", anchor])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain("broken at row 8: the log ends at row 7, before the anchor's row 10: rows after 7 were cut off")
  }, 120_000)

  it("fails an anchor whose row was rewritten with every later hash recomputed, and keeps an earlier one", async () => {
    const db = await logWith(10)
    const early = await headOf(db)
    const hashes = (await rowsOf(db, "SELECT seq, hash FROM plexi_audit_log ORDER BY seq")).map((r) => r.hash as string)
    // Row 9 forged, rows 9 and 10 and the head rehashed the way the writer hashes: a valid chain.
    const nine = await rehashed(db, 9, hashes[7]!, { actor: "forged" })
    const ten = await rehashed(db, 10, nine.hash)
    await tamper(
      db,
      `UPDATE plexi_audit_log SET actor = 'forged', hash = '${nine.hash}' WHERE seq = 9`,
      `UPDATE plexi_audit_log SET prev_hash = '${nine.hash}', hash = '${ten.hash}' WHERE seq = 10`,
      `UPDATE plexi_audit_head SET hash = '${ten.hash}' WHERE id = 1`
    )
    expect((await cli(db.url, ["audit", "verify"])).code).toBe(0)
    const run = await cli(db.url, ["audit", "verify", "--anchor", `5:${hashes[4]}`, "--anchor", early.anchor])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(`broken at row 10: row 10 does not match the anchor 10:${early.hash.slice(0, 12)}`)
    expect(run.stdout).toContain("the log was rewritten at or before row 10 (rows 1-9 verified)")
    expect((await cli(db.url, ["audit", "verify", "--anchor", `5:${hashes[4]}`])).code).toBe(0)
  }, 120_000)

})

describe("the audit head over REST and RPC", () => {
  it("answers owners and admins the newest entry, as the CLI prints it, and refuses a member (audited)", async () => {
    const db = await makeTestDatabase()
    databases.push(db)
    const node = await startNode({ databaseUrl: db.url })
    try {
      const owner = await authClient(node.url).signUp("head-owner", "a long and unusual passphrase")
      const member = await authClient(node.url).signUp("head-member", "a long and unusual passphrase")
      const refused = await call(node.url, "GET", "/admin/audit/head", undefined, member.accessToken)
      expect(refused.status).toBe(403)
      expect(refused.body._tag).toBe("Forbidden")
      expect(await failure(rpc(node, (c) => c.GetAuditHead({}), member.accessToken))).toMatchObject({ _tag: "Forbidden" })
      // Entries are appended in the background: wait until the answers settle on one head.
      await expect.poll(async () => {
        const viaRest = (await call(node.url, "GET", "/admin/audit/head", undefined, owner.accessToken)).body
        const viaRpc = await ok(rpc(node, (c) => c.GetAuditHead({}), owner.accessToken))
        const viaCli = JSON.parse((await cli(db.url, ["audit", "head", "--json"])).stdout)
        return viaRest.seq > 0 && JSON.stringify(viaRest) === JSON.stringify(viaRpc) &&
          JSON.stringify({ ...viaRest, anchor: `${viaRest.seq}:${viaRest.hash}` }) === JSON.stringify(viaCli)
      }, { timeout: 30_000, interval: 300 }).toBe(true)
      const actions = async () => (await rowsOf(db, "SELECT action FROM plexi_audit_log WHERE actor = $1", [member.userId])).map((r) => r.action)
      await expect.poll(actions, { timeout: 10_000 }).toContain("admin.audit.denied")
    } finally {
      await node.stop()
    }
  }, 120_000)
})
