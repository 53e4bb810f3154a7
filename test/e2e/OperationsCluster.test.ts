/**
 * The operations of the admin CLI on two real nodes sharing one real
 * Postgres: `plexichat status` lists both runners with the shards each
 * holds (and `--watch` redraws it with a message rate), a flag set through one node is acted on by the other within
 * PLEXI_FLAGS_REFRESH, and the protocol check refuses a client more than one
 * minor version away (and serves one a minor version away) on every RPC,
 * before authentication.
 */
import { spawn } from "node:child_process"
import { tmpdir } from "node:os"
import { resolve } from "node:path"
import { Effect, Either } from "effect"
import { PlexiClient, PROTOCOL_VERSION } from "plexichat/client"
import { afterAll, describe, expect, it, vi } from "vitest"
import { adminCli } from "../fixtures/AdminCli.ts"
import { authClient } from "../fixtures/AuthClient.ts"
import { buildOnce, type NodeProcess } from "../fixtures/NodeProcess.ts"
import { postgresPairForSuite } from "../fixtures/PostgresPair.ts"
import { ok, rpc } from "../fixtures/RpcCalls.ts"
import { PACKAGE_VERSION } from "../../runtime/Release.ts"

const password = "a long and unusual passphrase"

const callWithVersion = (node: NodeProcess, protocolVersion: string, token?: string) =>
  Effect.runPromise(Effect.flatMap(PlexiClient, (c) => c.Me({})).pipe(
    Effect.either,
    Effect.provide(PlexiClient.layer({ url: node.url, protocolVersion, ...(token === undefined ? {} : { token }) }))
  ))

describe("operations on a two-node cluster", () => {
  const pair = postgresPairForSuite("ops", { env: { PLEXI_FLAGS_REFRESH: "500 millis" } })
  const cli = adminCli()
  afterAll(() => cli.remove())

  it("status lists both runners with their shards, the counts and the versions", async () => {
    await authClient(pair.a().url).signUp("ops-owner", password)
    const env = { PLEXI_URL: pair.b().url, PLEXI_USERNAME: "ops-owner", PLEXI_PASSWORD: password }
    await vi.waitFor(async () => {
      const { cluster } = await cli.json(["status"], env)
      expect(cluster.mode).toBe("multi")
      expect(cluster.nodes).toHaveLength(2)
      expect(cluster.nodes.every((n: { healthy: boolean; shards: number }) => n.healthy && n.shards > 0)).toBe(true)
      expect(cluster.nodes.reduce((sum: number, n: { shards: number }) => sum + n.shards, 0)).toBe(cluster.shardsTotal)
      expect(cluster.nodes.filter((n: { self: boolean }) => n.self)).toHaveLength(1)
      // Heartbeats every 0.5 s: an age of seconds would mean a clock or time-zone mix-up in the query.
      expect(cluster.nodes.every((n: { heartbeatAgeMs: number }) => n.heartbeatAgeMs >= 0 && n.heartbeatAgeMs < 3_000)).toBe(true)
      expect(cluster).toMatchObject({ protocolVersion: PROTOCOL_VERSION, answeredBy: { nodeId: "ops-b" }, counts: { accounts: 1 } })
      // Each node recorded its release at start, under its runner address.
      for (const n of cluster.nodes) expect(n.release).toMatchObject({ packageVersion: PACKAGE_VERSION, protocolVersion: PROTOCOL_VERSION })
    }, { timeout: 20_000, interval: 500 })
    const human = await cli.run(["status"], env)
    expect(human.stdout).toMatch(/cluster: multi, 2 node\(s\)/)
    expect(human.stdout).toContain(`${PACKAGE_VERSION} (protocol ${PROTOCOL_VERSION})`)
  })

  it("status --watch redraws the view with a message rate until it is stopped", async () => {
    buildOnce()
    const child = spawn(process.execPath, ["dist/runtime/cli/Main.js", "status", "--watch", "--interval", "1"], {
      cwd: resolve(import.meta.dirname, "../.."),
      env: { PATH: process.env.PATH ?? "", HOME: tmpdir(), PLEXI_URL: pair.a().url, PLEXI_USERNAME: "ops-owner", PLEXI_PASSWORD: password },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    try {
      // The first frame has no rate yet; the second has one, computed from two counts.
      await vi.waitFor(() => expect(output).toMatch(/msgs\/s \d+\.\d \(stored messages/), { timeout: 20_000, interval: 100 })
      expect(output).toContain("\x1b[2J")
      expect(output).toMatch(/cluster: multi, 2 node\(s\)/)
      expect(output).toMatch(/commit latency/)
      expect(child.exitCode).toBeNull()
    } finally {
      child.kill("SIGINT")
    }
  })

  it("a flag set through one node is acted on by the other within PLEXI_FLAGS_REFRESH", async () => {
    const a = { PLEXI_URL: pair.a().url, PLEXI_USERNAME: "ops-owner", PLEXI_PASSWORD: password }
    const owner = await authClient(pair.b().url).signIn("ops-owner", password)
    const listOnB = () => ok(rpc(pair.b(), (c) => c.ListFlags({}), owner.accessToken))
    expect(await listOnB()).toEqual([])
    await cli.json(["flags", "set", "rollout.new-feed", "on"], a)
    const setAt = Date.now()
    await vi.waitFor(async () => {
      expect(await listOnB()).toEqual([expect.objectContaining({ name: "rollout.new-feed", enabled: true, effectiveHere: true })])
    }, { timeout: 10_000, interval: 20 })
    const seenAfter = Date.now() - setAt
    console.log(`flag acted on by the other node ${seenAfter} ms after the set returned (PLEXI_FLAGS_REFRESH 500 ms)`)
    // One refresh interval, one query and one poll, with slack for a loaded machine.
    expect(seenAfter).toBeLessThan(2_000)
    expect((await pair.sql().query("SELECT enabled FROM plexi_feature_flags WHERE name = 'rollout.new-feed'")).rows).toEqual([{ enabled: true }])
  })

  it("refuses a client more than one minor version away on every RPC, before authentication, and serves one a minor away", async () => {
    const [major, minor] = PROTOCOL_VERSION.split(".").map(Number) as [number, number]
    for (const version of [`${major + 1}.${minor}`, `${major}.${minor + 2}`, "garbage"]) {
      const refused = await callWithVersion(pair.a(), version)
      expect(Either.isLeft(refused) && refused.left).toMatchObject({ _tag: "IncompatibleProtocol", clientVersion: version, serverVersion: PROTOCOL_VERSION })
    }
    // A neighbouring minor version gets as far as authentication (no token: Unauthorized), the same as the node's own.
    for (const version of [`${major}.${minor + 1}`, PROTOCOL_VERSION]) {
      const served = await callWithVersion(pair.b(), version)
      expect(Either.isLeft(served) && served.left).toMatchObject({ _tag: "Unauthorized" })
    }
  })
})
