/**
 * Retention, shard garbage collection and the manifest scrub on a real catalog and shard directory: the policy
 * deletes expired chains from the catalog and their shards from the store; a shard of a backup still running holds
 * the collection back; the scrub names a manifest signed by another key and a shard no store holds.
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import { createHash } from "node:crypto"
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { generateSigning } from "../../src/backup/crypto/BackupKeys.ts"
import { signManifest, verifyManifest } from "../../src/backup/crypto/ManifestSigning.ts"
import * as Catalog from "../../src/backup/job/BackupCatalog.ts"
import { type CreatedBackup, createBackup } from "../../src/backup/job/CreateBackup.ts"
import { latestParent } from "../../src/backup/job/IncrementalParent.ts"
import { prune } from "../../src/backup/retention/Prune.ts"
import { collectShards } from "../../src/backup/retention/ShardGc.ts"
import { scrubManifests } from "../../src/backup/scrub/ManifestScrub.ts"
import { BackupShards } from "../../src/backup/store/BackupShards.ts"
import { backupSuite, onDatabase, query } from "../fixtures/BackupFixture.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

const { keys, source: seeded, store } = backupSuite(200, 100)
let source: TestDatabase
const made: Array<CreatedBackup> = []

const make = (kind: "full" | "incremental") =>
  onDatabase(source, store.layer, kind === "full"
    ? createBackup({ keys: keys.create, kind })
    : Effect.flatMap(latestParent(keys.signing.privateKey), (parent) => createBackup({ keys: keys.create, kind, parent })))

const hashes = (b: CreatedBackup) => Effect.runSync(verifyManifest(b.manifest, keys.signing.publicKey)).shards
const has = (hash: string) => onDatabase(source, store.layer, Effect.flatMap(BackupShards, (s) => s.has(hash)))
const options = (dryRun = false) => ({ dryRun, graceMs: 3_600_000, now: Date.now() })

beforeAll(async () => {
  source = await seeded()
  // f1 ← i1,  f2 ← i2 ← i3
  for (const kind of ["full", "incremental", "full", "incremental", "incremental"] as const) made.push(await make(kind))
}, 120_000)

describe("retention and garbage collection", () => {
  it("a dry run deletes nothing; prune deletes the expired chain from the catalog and its shards from every store", async () => {
    const [f1, i1, f2, i2, i3] = made as [CreatedBackup, CreatedBackup, CreatedBackup, CreatedBackup, CreatedBackup]
    const dry = await onDatabase(source, store.layer, prune({ keepFull: 1, keepIncremental: 1 }, options(true)))
    expect(dry.expired.map((e) => e.id).sort()).toEqual([f1.backupId, i1.backupId].sort())
    expect(dry.deleted).toBe(0)
    expect(await has(hashes(f1)[0]!)).toBe(true)
    const done = await onDatabase(source, store.layer, prune({ keepFull: 1, keepIncremental: 1 }, options()))
    expect(done.deleted).toBe(2)
    expect(done.gc.removed).toBe(hashes(f1).length + hashes(i1).length)
    for (const hash of [...hashes(f1), ...hashes(i1)]) expect(await has(hash)).toBe(false)
    for (const hash of [f2, i2, i3].flatMap(hashes)) expect(await has(hash)).toBe(true)
    const left = (await query(source, "SELECT id FROM plexi_backups ORDER BY created_at")).map((r) => r.id)
    expect(left).toEqual([f2.backupId, i2.backupId, i3.backupId])
  })

  it("holds back while a backup that stored a shard it has not recorded yet runs, and removes the shard once it failed", async () => {
    const bytes = new TextEncoder().encode("an orphan shard")
    const hash = createHash("sha256").update(bytes).digest("hex")
    await onDatabase(source, store.layer, Effect.flatMap(BackupShards, (s) => s.store(hash, bytes)))
    await onDatabase(source, store.layer, Catalog.start("bk_0000000000runningrunning00", "full", null, Date.now()))
    const held = await onDatabase(source, store.layer, collectShards(options()))
    expect(held).toMatchObject({ unreferenced: [hash], removed: 0, deferredBy: ["bk_0000000000runningrunning00"] })
    expect(await has(hash)).toBe(true)
    // A running entry older than the grace period is a dead process's: it no longer holds the collection back.
    const later = await onDatabase(source, store.layer, collectShards({ ...options(), now: Date.now() + 3_600_001 }))
    expect(later).toMatchObject({ unreferenced: [hash], removed: 1, deferredBy: [] })
    expect(await has(hash)).toBe(false)
    await onDatabase(source, store.layer, Catalog.fail("bk_0000000000runningrunning00", "test"))
  })

  it("the manifest scrub names a manifest signed by another key and a shard no store holds", async () => {
    const [, , f2, i2] = made as [CreatedBackup, CreatedBackup, CreatedBackup, CreatedBackup]
    const clean = await onDatabase(source, store.layer, scrubManifests(keys.signing.publicKey))
    expect(clean).toMatchObject({ manifests: 3, problems: [] })
    const other = generateSigning()
    const forged = Effect.runSync(signManifest(Effect.runSync(verifyManifest(i2.manifest, keys.signing.publicKey)), other.privateKey))
    await query(source, "UPDATE plexi_backups SET manifest = $1 WHERE id = $2", [forged, i2.backupId])
    const gone = hashes(f2)[0]!
    rmSync(join(store.dir, gone.slice(0, 2), gone))
    const found = await onDatabase(source, store.layer, scrubManifests(keys.signing.publicKey))
    expect(found.problems).toEqual(expect.arrayContaining([
      { backup: f2.backupId, shard: `0:${gone}`, reason: "ShardMissing: no store holds it" },
      expect.objectContaining({ backup: i2.backupId, shard: null, reason: expect.stringContaining("ManifestSignatureInvalid: signed by key") })
    ]))
    expect(found.problems).toHaveLength(2)
  })
})
