/**
 * `npm run cluster:local` starts N real nodes that form one cluster, with its
 * settings read through the node's Config.
 */
import { spawn } from "node:child_process"
import { resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const root = resolve(import.meta.dirname, "../..")

const launch = (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const child = spawn("npm", ["run", "--silent", "cluster:local", "--", ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true
  })
  let output = ""
  child.stdout.on("data", (c: Buffer) => (output += c.toString()))
  child.stderr.on("data", (c: Buffer) => (output += c.toString()))
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  return { child, output: () => output, exit }
}

const shardsAt = async (port: number): Promise<number | undefined> => {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`)
    return ((await res.json()) as { shards: number }).shards
  } catch {
    return undefined
  }
}

describe("npm run cluster:local", () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await makeTestDatabase()
  })
  afterAll(async () => {
    await db?.drop()
  })

  it("starts 2 nodes on consecutive ports that share the shards, and stops every node on SIGTERM", async () => {
    const basePort = await freePort()
    const runnerBase = await freePort()
    // The runner base port comes from the node's own variable; the public base port from the flag.
    const launcher = launch(["--nodes", "2", "--base-port", String(basePort)], {
      DATABASE_URL: db.url,
      PLEXI_HOST: "127.0.0.1",
      PLEXI_RUNNER_PORT: String(runnerBase)
    })
    try {
      await expect.poll(
        async () => {
          const shards = await Promise.all([shardsAt(basePort), shardsAt(basePort + 1)])
          return shards.every((s) => s !== undefined && s > 0) ? shards[0]! + shards[1]! : 0
        },
        { timeout: 60_000, interval: 250 }
      ).toBe(100)
      expect(launcher.output()).toContain(`runner ports ${runnerBase}-${runnerBase + 1}`)
      expect(launcher.output()).toContain("[node-1]")
      expect(launcher.output()).toContain("[node-2]")
    } finally {
      // npm and the launcher (one process group; each node runs in its own).
      process.kill(-launcher.child.pid!, "SIGTERM")
      await launcher.exit
    }
    // npm may exit first; the launcher reports each node once that node's process has exited.
    await expect.poll(launcher.output, { timeout: 30_000 }).toMatch(/\[node-1\] stopped[\s\S]*\[node-2\] stopped|\[node-2\] stopped[\s\S]*\[node-1\] stopped/)
    expect(await Promise.all([shardsAt(basePort), shardsAt(basePort + 1)])).toEqual([undefined, undefined])
  }, 90_000)

  it("refuses a bad setting before starting any node, naming it", async () => {
    const badFlag = launch(["--nodes", "0"], { DATABASE_URL: db.url })
    expect(await badFlag.exit).not.toBe(0)
    expect(badFlag.output()).toContain("--nodes must be at least 1")
    const badVariable = launch(["--nodes", "1"], { DATABASE_URL: db.url, PLEXI_RUNNER_PORT: "70000" })
    expect(await badVariable.exit).not.toBe(0)
    expect(badVariable.output()).toContain("PLEXI_RUNNER_PORT")
    expect(badVariable.output()).not.toContain("[node-1]")
  }, 60_000)
})
