/**
 * The audit log's tamper evidence and admin CLI against real Postgres:
 * rows edited, deleted, reordered and cut off in SQL are each detected by
 * `plexichat audit verify`, run as a real process, which names the first
 * bad row; `audit query` filters by actor, action and time; and two real
 * nodes appending at once keep one gap-free, valid chain. Anchors of the
 * head are in AuditAnchor.test.ts.
 */
import pg from "pg"
import { afterEach, describe, expect, it } from "vitest"
import { auditLogWith, cli, tamper } from "../fixtures/AuditCli.ts"
import { authClient } from "../fixtures/AuthClient.ts"
import { startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const databases: Array<TestDatabase> = []
afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.drop()))
})
const logWith = (n: number) => auditLogWith(n, databases)

describe("audit log tamper evidence", () => {
  it("verifies an intact log through the installed bin (npx plexichat) and prints its head", async () => {
    const db = await logWith(10)
    const run = await cli(db.url, ["audit", "verify"], true)
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^ok: 10 rows, head [0-9a-f]{64}$/m)
  }, 120_000)

  it("refuses UPDATE, DELETE and TRUNCATE while the trigger is on", async () => {
    const db = await logWith(2)
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    try {
      for (const s of ["UPDATE plexi_audit_log SET actor = 'x' WHERE seq = 1", "DELETE FROM plexi_audit_log WHERE seq = 2", "TRUNCATE plexi_audit_log"]) {
        await expect(client.query(s)).rejects.toThrow("plexi_audit_log is append-only")
      }
      expect(Number((await client.query("SELECT count(*) AS n FROM plexi_audit_log")).rows[0].n)).toBe(2)
    } finally {
      await client.end()
    }
  }, 60_000)

  it.each([
    ["an edited row", ["UPDATE plexi_audit_log SET actor = 'someone-else' WHERE seq = 4"], 4, "row 4 was altered"],
    [
      "an edited row with its hash replaced",
      ["UPDATE plexi_audit_log SET details = '{\"i\":40}', hash = repeat('a', 64) WHERE seq = 4"],
      4,
      "row 4 was altered"
    ],
    ["a deleted row", ["DELETE FROM plexi_audit_log WHERE seq = 4"], 4, "row 4 is missing"],
    [
      "two reordered rows",
      ["UPDATE plexi_audit_log SET seq = -4 WHERE seq = 4", "UPDATE plexi_audit_log SET seq = 4 WHERE seq = 5", "UPDATE plexi_audit_log SET seq = 5 WHERE seq = -4"],
      4,
      "row 4 does not link to row 3"
    ],
    ["the last row deleted", ["DELETE FROM plexi_audit_log WHERE seq = 10"], 10, "row 10 is missing (the head records 10 rows)"]
  ])("detects %s and names the first bad row", async (_what, statements, seq, problem) => {
    const db = await logWith(10)
    await tamper(db, ...statements)
    const run = await cli(db.url, ["audit", "verify"])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(`broken at row ${seq}: ${problem}`)
  }, 60_000)

  it("detects a row rewritten with a valid hash of its own at the next row, which no longer links", async () => {
    const db = await logWith(10)
    // Recompute row 4's hash the way the writer does, after editing it: only the link of row 5 can tell.
    const { hashOf } = await import("../../src/audit/AuditChain.ts")
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const row = (await client.query("SELECT * FROM plexi_audit_log WHERE seq = 4")).rows[0]
    await client.end()
    const edited = { seq: 4, at: Number(row.at), actor: "forged", action: row.action, target: row.target, ip: row.ip, node: row.node, details: row.details, prevHash: row.prev_hash }
    await tamper(db, `UPDATE plexi_audit_log SET actor = 'forged', hash = '${hashOf(edited)}' WHERE seq = 4`)
    const run = await cli(db.url, ["audit", "verify"])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain("broken at row 5: row 5 does not link to row 4")
  }, 60_000)

  it("queries by actor, action and time as JSON lines", async () => {
    const db = await logWith(6)
    const byActor = await cli(db.url, ["audit", "query", "--actor", "u3"])
    expect(byActor.code).toBe(0)
    const lines = byActor.stdout.trim().split("\n").map((l) => JSON.parse(l))
    expect(lines).toMatchObject([{ seq: 3, actor: "u3", action: "auth.login_failed", target: "t3", ip: "10.0.0.1", node: "test-node", details: { i: 3 } }])
    const byAction = await cli(db.url, ["audit", "query", "--action", "auth.login", "--since", "2020-01-01T00:00:00Z"])
    expect(byAction.stdout.trim().split("\n").map((l) => JSON.parse(l).seq)).toEqual([2, 4, 6])
    const future = await cli(db.url, ["audit", "query", "--since", String(Date.now() + 3_600_000)])
    expect(future.stdout.trim()).toBe("")
    const past = await cli(db.url, ["audit", "query", "--until", "2020-01-01T00:00:00Z"])
    expect(past.stdout.trim()).toBe("")
    const bad = await cli(db.url, ["audit", "query", "--since", "yesterday-ish"])
    expect(bad.code).not.toBe(0)
  }, 120_000)
})

describe("audit log under concurrent appends", () => {
  it("keeps one gap-free valid chain while two nodes append at once", async () => {
    const db = await makeTestDatabase()
    databases.push(db)
    const env = { PLEXI_AUTH_ARGON2_MEMORY_KIB: "1024", PLEXI_AUTH_ARGON2_TIME_COST: "1", PLEXI_API_RATE_BURST: "100000" }
    const nodes = await Promise.all([startNode({ databaseUrl: db.url, env }), startNode({ databaseUrl: db.url, env })])
    try {
      const perNode = 60
      // Failed sign-ins (each one audit entry) sent to both nodes at once, in waves of 20 per node.
      const statuses: Array<number> = []
      for (let wave = 0; wave < perNode / 20; wave++) {
        const answers = await Promise.all(nodes.flatMap((node, n) =>
          Array.from({ length: 20 }, (_, i) => authClient(node.url).login({ username: `nobody-${n}-${wave}-${i}`, password: "not this one at all" }))
        ))
        statuses.push(...answers.map((a) => a.status))
      }
      // Every attempt was a failed sign-in (so each wrote exactly one entry).
      expect(statuses.filter((s) => s !== 401)).toEqual([])
      const count = async () => {
        const client = new pg.Client({ connectionString: db.url })
        await client.connect()
        try {
          return (await client.query("SELECT node, count(*) AS n FROM plexi_audit_log WHERE action = 'auth.login_failed' GROUP BY node ORDER BY node")).rows
            .map((r) => [r.node, Number(r.n)])
        } finally {
          await client.end()
        }
      }
      await expect.poll(count, { timeout: 30_000, interval: 200 }).toEqual([nodes[0]!.name, nodes[1]!.name].sort().map((name) => [name, perNode]))
      const run = await cli(db.url, ["audit", "verify"])
      expect(run.code).toBe(0)
      expect(run.stdout).toMatch(new RegExp(`^ok: ${2 * perNode} rows`, "m"))
    } finally {
      await Promise.all(nodes.map((n) => n.stop()))
    }
  }, 180_000)
})
