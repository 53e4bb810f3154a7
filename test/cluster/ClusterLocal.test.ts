/**
 * `npm run cluster:local` starts N real nodes that form one cluster.
 */
import { spawn } from "node:child_process"
import { resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freeConsecutivePorts, waitUntil } from "../fixtures/ClusterHelpers.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const root = resolve(import.meta.dirname, "../..")

describe("npm run cluster:local", () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await makeTestDatabase()
  })
  afterAll(async () => {
    await db?.drop()
  }, 30_000)

  it("starts 2 nodes on consecutive ports that share the shards, and stops them on SIGTERM", async () => {
    const basePort = await freeConsecutivePorts(2)
    const runnerBase = await freeConsecutivePorts(2)
    const child = spawn("npm", ["run", "cluster:local", "--", "--nodes", "2", "--base-port", String(basePort), "--runner-base-port", String(runnerBase)], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: db.url, PLEXI_HOST: "127.0.0.1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true
    })
    let output = ""
    child.stdout.on("data", (c: Buffer) => (output += c.toString()))
    child.stderr.on("data", (c: Buffer) => (output += c.toString()))
    try {
      const shards = await waitUntil("both nodes to share the 100 shards", async () => {
        const now = await Promise.all([0, 1].map(async (i) => {
          try {
            const res = await fetch(`http://127.0.0.1:${basePort + i}/api/v1/health`)
            return ((await res.json()) as { shards: number }).shards
          } catch {
            return 0
          }
        }))
        return now[0]! > 0 && now[1]! > 0 && now[0]! + now[1]! === 100 ? now : undefined
      }, 60_000, 200).catch((error) => {
        throw new Error(`${error}\n${output}`)
      })
      expect(shards[0]! + shards[1]!, output).toBe(100)
      expect(output).toContain("[node-1]")
      expect(output).toContain("[node-2]")
    } finally {
      process.kill(-child.pid!, "SIGTERM")
      await new Promise((r) => child.once("exit", r))
    }
  }, 90_000)
})
