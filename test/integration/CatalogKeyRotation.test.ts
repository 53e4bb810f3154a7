/**
 * Key rotation over a real catalog (CatalogKeyRotation.ts on Postgres): every changed manifest is written in one
 * transaction, so a manifest that fails late rolls back those changed before it; a dry run writes nothing; a
 * manifest stored under another backup's id is refused; a running job, or a recent `running` entry without one,
 * blocks the rotation and is named, while an entry older than the grace does not.
 */
import { createHash } from "node:crypto"
import { Effect } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { generateRecipient, generateSigning, type RecipientPublicKey } from "../../src/backup/crypto/BackupKeys.ts"
import { canonicalJson } from "../../src/backup/crypto/CanonicalJson.ts"
import { generateDataKey } from "../../src/backup/crypto/ChunkCipher.ts"
import { rewrapWith } from "../../src/backup/crypto/KeyRotation.ts"
import { type WrappedKey, wrapDataKey } from "../../src/backup/crypto/KeyWrap.ts"
import { signManifest } from "../../src/backup/crypto/ManifestSigning.ts"
import { merkleRootHex } from "../../src/backup/crypto/MerkleTree.ts"
import { type CatalogRotationOptions, KeyRotationFailed, rotateCatalog } from "../../src/backup/job/CatalogKeyRotation.ts"
import { migrated, postgresDatabase, query, sqlLayer } from "../fixtures/BackupFixture.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

const databases: Array<TestDatabase> = []
let db: TestDatabase
const [alice, bob, carol] = [generateRecipient(), generateRecipient(), generateRecipient()]
const cluster = generateSigning()
const ids = ["bk_0000000001rotationcatalog1", "bk_0000000002rotationcatalog2", "bk_0000000003rotationcatalog3"] as const
const shard = createHash("sha256").update("chunk").digest("hex")

const manifestOf = (backupId: string, recipients: ReadonlyArray<RecipientPublicKey>) =>
  Effect.runSync(signManifest({
    format: "plexichat.backup.manifest",
    version: 1,
    backupId,
    createdAt: 1_764_700_000_000,
    chunkSize: 1048576,
    shards: [shard],
    merkleRoot: merkleRootHex([shard]),
    recipients: Effect.runSync(wrapDataKey(generateDataKey(), recipients, backupId)) as [WrappedKey, ...Array<WrappedKey>],
    details: { kind: "full", parent: null }
  }, cluster.privateKey))

const manifests = async () => (await query(db, "SELECT id, manifest FROM plexi_backups WHERE state = 'committed' ORDER BY id")).map((r) => [r.id, r.manifest])

const rotate = (options: Partial<CatalogRotationOptions> = {}) =>
  Effect.runPromise(Effect.either(rotateCatalog({
    rotate: rewrapWith({ from: alice.privateKey, to: bob.publicKey, keepOld: false, verifyWith: cluster.publicKey, signWith: cluster.privateKey }),
    dryRun: false,
    graceMs: 3_600_000,
    now: Date.now(),
    ...options
  })).pipe(Effect.provide(sqlLayer(db))))

beforeAll(async () => {
  db = await postgresDatabase(databases)
  await migrated(db)
}, 60_000)

afterAll(async () => {
  for (const d of databases) await d.drop()
})

beforeEach(async () => {
  await query(db, "DELETE FROM plexi_backups")
  // Two backups wrapped to Alice, the newest to Carol only.
  for (const [i, id] of ids.entries()) {
    await query(db, "INSERT INTO plexi_backups (id, kind, state, manifest, created_at, committed_at) VALUES ($1, 'full', 'committed', $2, $3, $3)", [
      id,
      manifestOf(id, i < 2 ? [alice.publicKey] : [carol.publicKey]),
      1000 + i
    ])
  }
})

describe("key rotation over the catalog", () => {
  it("rewraps the backups wrapped to the old recipient and skips the others", async () => {
    const before = await manifests()
    const out = await rotate()
    expect(out).toMatchObject({ _tag: "Right", right: { dryRun: false, changed: [ids[0], ids[1]], skipped: [{ backupId: ids[2], reason: expect.stringContaining("not wrapped to recipient") }] } })
    const after = await manifests()
    expect(after[0]![1]).not.toBe(before[0]![1])
    expect(after[1]![1]).not.toBe(before[1]![1])
    expect(after[2]![1]).toBe(before[2]![1])
  })

  it("a dry run reports the same and writes nothing", async () => {
    const before = await manifests()
    const out = await rotate({ dryRun: true })
    expect(out).toMatchObject({ _tag: "Right", right: { dryRun: true, changed: [ids[0], ids[1]] } })
    expect(await manifests()).toEqual(before)
  })

  it("a manifest changed after signing, after two changed ones, rolls all of them back and is named", async () => {
    const [row] = await query(db, "SELECT manifest FROM plexi_backups WHERE id = $1", [ids[2]])
    const json = JSON.parse(String(row!.manifest))
    await query(db, "UPDATE plexi_backups SET manifest = $1 WHERE id = $2", [`${canonicalJson({ ...json, manifest: { ...json.manifest, createdAt: 5 } })}\n`, ids[2]])
    const before = await manifests()
    const out = await rotate()
    expect(out).toMatchObject({ _tag: "Left", left: { _tag: "KeyRotationFailed", backup: ids[2], reason: expect.stringContaining("ManifestSignatureInvalid") } })
    expect(await manifests()).toEqual(before)
  })

  it("a failing copy of a changed manifest (onChanged) rolls the catalog back", async () => {
    const before = await manifests()
    const out = await rotate({
      onChanged: (backupId) => (backupId === ids[1] ? Effect.fail(new KeyRotationFailed({ backup: backupId, reason: "cannot write its copy: ENOSPC" })) : Effect.void)
    })
    expect(out).toMatchObject({ _tag: "Left", left: { _tag: "KeyRotationFailed", backup: ids[1], reason: "cannot write its copy: ENOSPC" } })
    expect(await manifests()).toEqual(before)
  })

  it("refuses a manifest stored under another backup's id", async () => {
    await query(db, "UPDATE plexi_backups SET manifest = (SELECT manifest FROM plexi_backups WHERE id = $1) WHERE id = $2", [ids[0], ids[1]])
    const out = await rotate()
    expect(out).toMatchObject({ _tag: "Left", left: { _tag: "KeyRotationFailed", backup: ids[1], reason: `the manifest stored under it is of backup ${ids[0]}` } })
  })

  it("refuses while the backup job runs, naming it, and changes nothing", async () => {
    const running = "bk_0000000009rotationrunning9"
    await query(db, "INSERT INTO plexi_backups (id, kind, state, created_at) VALUES ($1, 'full', 'running', $2)", [running, Date.now() - 7_200_000])
    await query(db, "INSERT INTO plexi_backup_jobs (backup_id, step, sealed_key, recipients, runner) VALUES ($1, 'shard', '\\x00', '[]', '10.0.0.7:24431')", [running])
    const before = await manifests()
    const out = await rotate()
    expect(out).toMatchObject({ _tag: "Left", left: { _tag: "KeyRotationBlocked", backupId: running, reason: expect.stringContaining(`the backup job ${running} is running (step shard, on 10.0.0.7:24431)`) } })
    expect(await manifests()).toEqual(before)
  })

  it("refuses while a create without a job row started within the grace runs; an older such entry counts as dead", async () => {
    const running = "bk_0000000008rotationlocal008"
    const startedAt = Date.now() - 60_000
    await query(db, "INSERT INTO plexi_backups (id, kind, state, created_at) VALUES ($1, 'full', 'running', $2)", [running, startedAt])
    expect(await rotate()).toMatchObject({ _tag: "Left", left: { _tag: "KeyRotationBlocked", backupId: running, reason: expect.stringContaining("a create without --url") } })
    expect(await rotate({ now: startedAt + 3_600_001 })).toMatchObject({ _tag: "Right", right: { changed: [ids[0], ids[1]] } })
  })
})
