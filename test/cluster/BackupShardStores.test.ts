/**
 * Backup shard stores on three real node processes (on one Postgres database), R = 2. The test process places and
 * reads shards as the nodes do (ClusterBackupShards over the live runners' stores, reached on their runner ports),
 * while the nodes run the scheduled repair and scrub passes (the cluster singleton) every second or two:
 *
 * - every shard is on the two distinct nodes rendezvous hashing ranks first, and reads back;
 * - a flipped byte in one copy is found by the nodes' scheduled scrub and the copy written again from the other;
 * - the shard-store RPCs are not answered on the public port;
 * - a shard deleted on every replica fails to read with ShardMissing naming it;
 * - after kill -9 of a node, the scheduled repair brings every shard back to two copies on the survivors.
 */
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { RunnerStorage, ShardingConfig, SqlRunnerStorage } from "@effect/cluster"
import { RpcSerialization } from "@effect/rpc"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import * as RunnerConnections from "../../runtime/cluster/RunnerConnections.ts"
import * as ShardStorePeers from "../../runtime/cluster/ShardStorePeers.ts"
import * as ShardMaintenance from "../../src/backup/scrub/ShardMaintenance.ts"
import { BackupShards } from "../../src/backup/store/BackupShards.ts"
import * as ClusterBackupShards from "../../src/backup/store/ClusterBackupShards.ts"
import { rankFor } from "../../src/backup/store/Rendezvous.ts"
import * as ShardStoreConfig from "../../src/backup/store/ShardStoreConfig.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

interface StoreNode {
  readonly process: NodeProcess
  readonly dir: string
  /** The runner address the node's store is named by. */
  readonly id: string
}

const fileOf = (node: StoreNode, hash: string) => path.join(node.dir, hash.slice(0, 2), hash)
const holders = (nodes: ReadonlyArray<StoreNode>, hash: string) => nodes.filter((n) => fs.existsSync(fileOf(n, hash))).map((n) => n.id).sort()

/**
 * The nodes' and the test's shard lock expiration, which is also how late a heartbeat may be before a node drops out
 * of the live stores: longer than the default 2 s, so that a node slowed by a loaded machine does not drop out for a
 * moment and get passed over by a placement. A killed node still leaves at once (the reaper sees its session gone).
 */
const lockExpiration = "6 seconds"

/** The test process's view of the cluster's shards: the nodes' own layers, with no store of its own. */
const clientRuntime = (url: string) => {
  const sql = PgClient.layer({ url: Redacted.make(url) })
  const runners = SqlRunnerStorage.layer.pipe(
    Layer.provide(ShardingConfig.layer({ shardLockExpiration: lockExpiration })),
    Layer.provide(sql)
  )
  return ManagedRuntime.make(
    Layer.mergeAll(ClusterBackupShards.layer, ShardMaintenance.layer).pipe(
      Layer.provideMerge(ShardStorePeers.clusterLayer),
      Layer.provideMerge(Layer.mergeAll(runners, RunnerConnections.layer, RpcSerialization.layerMsgPack, ShardStoreConfig.layer()))
    )
  )
}

describe("backup shard stores on three nodes, R = 2", () => {
  let db: TestDatabase
  let nodes: Array<StoreNode> = []
  let runtime: ReturnType<typeof clientRuntime>
  const root = fs.mkdtempSync(path.join(tmpdir(), "plexi-shard-stores-"))
  const shards = Array.from({ length: 24 }, () => randomBytes(32 * 1024 + Math.floor(Math.random() * 1024)))

  beforeAll(async () => {
    db = await makeTestDatabase()
    nodes = await Promise.all(["s1", "s2", "s3"].map(async (name) => {
      const dir = path.join(root, name)
      const process = await startNode({
        name,
        databaseUrl: db.url,
        env: {
          PLEXI_BACKUP_SHARD_DIR: dir,
          PLEXI_BACKUP_REPAIR_INTERVAL: "1 second",
          PLEXI_BACKUP_SCRUB_INTERVAL: "2 seconds",
          PLEXI_SHARD_LOCK_EXPIRATION: lockExpiration
        }
      })
      return { process, dir, id: `127.0.0.1:${process.runnerPort}` }
    }))
    runtime = clientRuntime(db.url)
    // All three runners live (registered, heartbeating) before the first placement.
    await vi.waitFor(async () => {
      const live = await runtime.runPromise(Effect.flatMap(RunnerStorage.RunnerStorage, (s) => s.getRunners))
      expect(live.filter(([, healthy]) => healthy).length).toBe(3)
    }, { timeout: 30_000, interval: 200 })
  }, 120_000)

  afterAll(async () => {
    await runtime?.dispose()
    await Promise.all(nodes.map((n) => n.process.stop()))
    await db?.drop()
    fs.rmSync(root, { recursive: true, force: true })
  }, 60_000)

  const store = (bytes: Uint8Array) => runtime.runPromise(Effect.flatMap(BackupShards, (s) => s.store(sha256(bytes), bytes)))
  const retrieve = (hash: string) => runtime.runPromise(Effect.flatMap(BackupShards, (s) => Effect.either(s.retrieve(hash))))

  it("stores each shard on the two distinct nodes rendezvous hashing ranks first, and reads it back", async () => {
    for (const bytes of shards) {
      const hash = sha256(bytes)
      const placement = await store(bytes)
      const expected = rankFor(hash, nodes).slice(0, 2).map((n) => n.id).sort()
      expect([...placement.replicas].sort()).toEqual(expected)
      expect(placement.wanted).toBe(2)
      expect(holders(nodes, hash)).toEqual(expected)
      const back = await retrieve(hash)
      expect(back._tag === "Right" && Buffer.from(back.right).equals(bytes)).toBe(true)
    }
    const everyNodeHolds = nodes.map((n) => shards.filter((b) => fs.existsSync(fileOf(n, sha256(b)))).length)
    expect(everyNodeHolds.every((count) => count > 0)).toBe(true)
  }, 60_000)

  it("does not serve the shard-store RPCs on the public port", async () => {
    const held = sha256(shards[1]!)
    const request = { _tag: "Request", id: "1", tag: "ShardStoreGet", payload: { hash: held }, headers: [] }
    for (const n of nodes) {
      const res = await fetch(`${n.process.url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/ndjson" },
        body: `${JSON.stringify(request)}\n`
      })
      const body = await res.text()
      // Whatever the public RPC door answers (an unknown tag, no token), it is never the shard.
      expect(body).not.toContain(Buffer.from(shards[1]!).toString("base64").slice(0, 40))
      expect(body).not.toMatch(/"_tag":"Exit","requestId":"1","exit":\{"_tag":"Success"/)
    }
  })

  it("finds a flipped byte in one copy on the scheduled scrub and writes the copy again from the other", async () => {
    const bytes = shards[0]!
    const hash = sha256(bytes)
    const [victim] = nodes.filter((n) => fs.existsSync(fileOf(n, hash)))
    const corrupt = Buffer.from(bytes)
    corrupt[100]! ^= 0x40
    fs.writeFileSync(fileOf(victim!, hash), corrupt)
    const reported = () =>
      nodes.some((n) => n.process.output().split("\n").some((line) => line.includes(`backup shard scrub`) && line.includes(`corrupt copy of ${hash} on ${victim!.id}`)))
    // The copy is written again during the pass, and the pass logs its report when it ends: wait for both.
    await vi.waitFor(() => {
      expect(fs.readFileSync(fileOf(victim!, hash)).equals(bytes)).toBe(true)
      expect(reported()).toBe(true)
    }, { timeout: 20_000, interval: 100 })
    expect(holders(nodes, hash)).toEqual(rankFor(hash, nodes).slice(0, 2).map((n) => n.id).sort())
  }, 30_000)

  it("fails to read a shard deleted on every replica with ShardMissing naming the shard", async () => {
    const bytes = randomBytes(4096)
    const hash = sha256(bytes)
    await store(bytes)
    for (const n of nodes) fs.rmSync(fileOf(n, hash), { force: true })
    const read = await retrieve(hash)
    expect(read._tag).toBe("Left")
    if (read._tag === "Left") {
      expect(read.left).toMatchObject({ _tag: "ShardMissing", hash })
      expect(read.left.reason).toContain(`no good copy of shard ${hash}`)
    }
  }, 30_000)

  it("brings every shard back to two copies on the survivors after kill -9 of a node", async () => {
    const killed = nodes.find((n) => shards.some((b) => fs.existsSync(fileOf(n, sha256(b)))))!
    const onKilled = shards.filter((b) => fs.existsSync(fileOf(killed, sha256(b)))).length
    expect(onKilled).toBeGreaterThan(0)
    await killed.process.kill9()
    const survivors = nodes.filter((n) => n !== killed)
    const started = Date.now()
    await vi.waitFor(() => {
      for (const b of shards) expect(holders(survivors, sha256(b))).toEqual(survivors.map((n) => n.id).sort())
    }, { timeout: 40_000, interval: 200 })
    console.log(`repair after kill -9: ${onKilled} shards back to 2 copies ${Date.now() - started} ms after the kill`)
    for (const b of shards) {
      const back = await retrieve(sha256(b))
      expect(back._tag === "Right" && Buffer.from(back.right).equals(b)).toBe(true)
    }
  }, 60_000)
})
