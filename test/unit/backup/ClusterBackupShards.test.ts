/**
 * ClusterBackupShards and the repair/scrub passes over real shard directories in this process (one per "node"):
 * placement on the R nodes the ranking prefers, a failing node replaced by the next, one replica and a warning on a
 * single node, reads that skip a bad copy, and scrub reporting a corrupt copy (repaired) and a shard with no good
 * copy left (lost).
 */
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Effect, Layer, Logger } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { ShardMaintenance } from "../../../src/backup/scrub/ShardMaintenance.ts"
import * as Maintenance from "../../../src/backup/scrub/ShardMaintenance.ts"
import { BackupShards } from "../../../src/backup/store/BackupShards.ts"
import * as ClusterBackupShards from "../../../src/backup/store/ClusterBackupShards.ts"
import { rankFor } from "../../../src/backup/store/Rendezvous.ts"
import * as ShardStoreConfig from "../../../src/backup/store/ShardStoreConfig.ts"
import { localShardStoreNode, type ShardStoreNode } from "../../../src/backup/store/ShardStoreNode.ts"
import { ShardStorePeers } from "../../../src/backup/store/ShardStorePeers.ts"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
const root = fs.mkdtempSync(path.join(tmpdir(), "plexi-cluster-shards-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

let made = 0
/** `count` nodes, each its own directory; `broken` ids get a path that is a file, so every write there fails. */
const nodesOf = (count: number, broken: ReadonlySet<string> = new Set()) =>
  Array.from({ length: count }, (_, i) => {
    const id = `node-${i + 1}`
    const dir = path.join(root, `${++made}-${id}`)
    if (broken.has(id)) fs.writeFileSync(dir, "not a directory")
    return { node: localShardStoreNode(dir, id), dir }
  })

const fileOf = (dir: string, hash: string) => path.join(dir, hash.slice(0, 2), hash)

/** Runs `effect` over `nodes` with R = `replicas`, collecting the warnings it logs. */
const withNodes = <A, E>(nodes: ReadonlyArray<ShardStoreNode>, replicas: number, effect: Effect.Effect<A, E, BackupShards | ShardMaintenance>) => {
  const warnings: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    if (logLevel._tag === "Warning") warnings.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
  })
  const layer = Layer.merge(ClusterBackupShards.layer, Maintenance.layer).pipe(
    Layer.provide(Layer.succeed(ShardStorePeers, ShardStorePeers.of({ live: Effect.succeed(nodes), registered: Effect.succeed(nodes) }))),
    Layer.provide(ShardStoreConfig.layer({ replicas }))
  )
  return Effect.runPromise(effect.pipe(Effect.provide(layer), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))).then((value) => ({
    value,
    warnings
  }))
}

const storeShard = (bytes: Uint8Array) => Effect.flatMap(BackupShards, (s) => s.store(sha256(bytes), bytes))

describe("ClusterBackupShards", () => {
  it("places a shard on the R nodes the ranking prefers", async () => {
    const nodes = nodesOf(4)
    const bytes = randomBytes(2048)
    const { value, warnings } = await withNodes(nodes.map((n) => n.node), 2, storeShard(bytes))
    const expected = rankFor(sha256(bytes), nodes.map((n) => n.node)).slice(0, 2).map((n) => n.id)
    expect(value).toEqual({ hash: sha256(bytes), replicas: expected, wanted: 2 })
    expect(nodes.filter((n) => fs.existsSync(fileOf(n.dir, sha256(bytes)))).map((n) => n.node.id).sort()).toEqual([...expected].sort())
    expect(warnings).toEqual([])
  })

  it("replaces a node whose write fails with the next in the ranking", async () => {
    const bytes = randomBytes(2048)
    const hash = sha256(bytes)
    const ids = ["node-1", "node-2", "node-3"]
    const first = rankFor(hash, ids.map((id) => ({ id })))[0]!.id
    const nodes = nodesOf(3, new Set([first]))
    const { value } = await withNodes(nodes.map((n) => n.node), 2, storeShard(bytes))
    expect([...value.replicas].sort()).toEqual(ids.filter((id) => id !== first))
  })

  it("stores one replica on a single node and warns that it did", async () => {
    const [only] = nodesOf(1)
    const bytes = randomBytes(512)
    const { value, warnings } = await withNodes([only!.node], 2, storeShard(bytes))
    expect(value).toEqual({ hash: sha256(bytes), replicas: ["node-1"], wanted: 2 })
    expect(warnings).toEqual([`backup shard ${sha256(bytes)} stored on 1 node only (one live shard store; 2 replicas wanted)`])
  })

  it("fails ShardStoreFailed naming every node when no node could write", async () => {
    const nodes = nodesOf(2, new Set(["node-1", "node-2"]))
    const bytes = randomBytes(512)
    const error = await withNodes(nodes.map((n) => n.node), 2, Effect.flip(storeShard(bytes))).then((r) => r.value)
    expect(error._tag).toBe("ShardStoreFailed")
    expect(error.reason).toMatch(/node-\d.*; .*node-\d/)
  })

  it("reads from another replica when the preferred copy is corrupt", async () => {
    const nodes = nodesOf(3)
    const bytes = randomBytes(4096)
    const hash = sha256(bytes)
    const { value } = await withNodes(nodes.map((n) => n.node), 2, storeShard(bytes))
    fs.writeFileSync(fileOf(nodes.find((n) => n.node.id === value.replicas[0])!.dir, hash), randomBytes(4096))
    const read = await withNodes(nodes.map((n) => n.node), 2, Effect.flatMap(BackupShards, (s) => s.retrieve(hash)))
    expect(Buffer.from(read.value).equals(bytes)).toBe(true)
  })
})

describe("scrub", () => {
  it("reports a corrupt copy and writes it again, and reports a shard with no good copy as lost", async () => {
    const nodes = nodesOf(3)
    const live = nodes.map((n) => n.node)
    const good = randomBytes(4096)
    const doomed = randomBytes(4096)
    const placed = await withNodes(live, 2, Effect.all([storeShard(good), storeShard(doomed)]))
    const [goodPlacement, doomedPlacement] = placed.value
    const dirOf = (id: string) => nodes.find((n) => n.node.id === id)!.dir
    fs.writeFileSync(fileOf(dirOf(goodPlacement.replicas[1]!), goodPlacement.hash), randomBytes(4096))
    for (const id of doomedPlacement.replicas) fs.writeFileSync(fileOf(dirOf(id), doomedPlacement.hash), randomBytes(4096))

    const { value: report, warnings } = await withNodes(live, 2, Effect.flatMap(ShardMaintenance, (m) => m.scrub))
    expect(report.copiesChecked).toBe(4)
    expect(report.corrupt).toEqual(expect.arrayContaining([
      { hash: goodPlacement.hash, node: goodPlacement.replicas[1] },
      ...doomedPlacement.replicas.map((node) => ({ hash: doomedPlacement.hash, node }))
    ]))
    expect(report.lost).toEqual([doomedPlacement.hash])
    expect(report.copied).toBe(1)
    expect(fs.readFileSync(fileOf(dirOf(goodPlacement.replicas[1]!), goodPlacement.hash)).equals(good)).toBe(true)
    expect(warnings.join("\n")).toContain(`shard ${doomedPlacement.hash} has no good copy left`)
  })

  it("repairs a shard that lost a copy (a file deleted) back to R copies", async () => {
    const nodes = nodesOf(3)
    const live = nodes.map((n) => n.node)
    const bytes = randomBytes(1024)
    const { value } = await withNodes(live, 2, storeShard(bytes))
    fs.rmSync(fileOf(nodes.find((n) => n.node.id === value.replicas[0])!.dir, value.hash))
    const { value: report } = await withNodes(live, 2, Effect.flatMap(ShardMaintenance, (m) => m.repair))
    expect(report).toMatchObject({ shards: 1, underReplicated: 1, copied: 1, lost: [], failures: [] })
    expect(nodes.filter((n) => fs.existsSync(fileOf(n.dir, value.hash))).length).toBe(2)
  })
})
