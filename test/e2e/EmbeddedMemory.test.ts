/**
 * The embedded node stays lean (runtime/sql/PgliteStart.ts): run as `npm
 * start` runs it (the compiled `dist/runtime/main.js`, built first), on a
 * fresh data directory (initdb in a child process) and again on the same directory, it
 * answers health, a post round trip works and survives the restart, and its
 * resident memory stays under a generous bound. About 280 MiB idle is typical
 * (docs/BENCHMARKS.md, "Embedded node"); before the change it was 945 MiB on
 * a fresh directory and 481 MiB on an existing one.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest } from "../fixtures/Clients.ts"
import { buildOnce, type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"

const boundMiB = 400

const rssMiB = (node: NodeProcess) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${node.child.pid}/status`, "utf8"))
  return Number(m![1]) / 1024
}

describe("the embedded node's memory", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "plexi-lean-"))
  let node: NodeProcess | undefined

  afterAll(async () => {
    await node?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it(`answers health and a post round trip on a fresh and an existing directory, under ${boundMiB} MiB`, async () => {
    buildOnce()
    node = await startNode({ dataDir, compiled: true })
    const health = await (await fetch(`${node.url}/api/v1/health`)).json()
    expect(health).toMatchObject({ status: "ok", websocketEngine: "uws-native", database: "pglite", cluster: "single" })
    const api = rest(node.url, (await signedIn(node.url, "alice")).token)
    const channelId = (await api.createChannel("lean")).id
    expect((await api.post(channelId, "m1", "first")).seq).toBe(1)
    expect((await api.history(channelId)).map((m) => m.body)).toEqual(["first"])
    expect(rssMiB(node)).toBeLessThan(boundMiB)
    await node.stop()

    node = await startNode({ dataDir, compiled: true })
    const again = rest(node.url, (await signedIn(node.url, "alice")).token)
    expect((await again.history(channelId)).map((m) => m.body)).toEqual(["first"])
    expect((await again.post(channelId, "m2", "second")).seq).toBe(2)
    expect(rssMiB(node)).toBeLessThan(boundMiB)
  }, 120_000)
})
