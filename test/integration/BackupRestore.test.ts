/**
 * A backup of a real Postgres database restored into an empty one, and every check of the restore failing the way
 * docs/BACKUPS.md says: a flipped byte in a shard, a missing shard, a wrong private key, a truncated manifest and a
 * manifest signed by another key each stop it with an error naming the backup, the shard and the reason, and the
 * target is left as empty as it was (no table, not even the schema).
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer, Stream } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { generateRecipient, generateSigning } from "../../src/backup/crypto/BackupKeys.ts"
import { verifyManifest } from "../../src/backup/crypto/ManifestSigning.ts"
import { signManifest } from "../../src/backup/crypto/ManifestSigning.ts"
import * as Catalog from "../../src/backup/job/BackupCatalog.ts"
import { type CreatedBackup, createBackup } from "../../src/backup/job/CreateBackup.ts"
import { restoreBackup } from "../../src/backup/restore/RestoreBackup.ts"
import { BackupShards, ShardStoreFailed } from "../../src/backup/store/BackupShards.ts"
import { makeLocalShardDirectory } from "../../src/backup/store/LocalShardDirectory.ts"
import {
  backupSuite,
  contents,
  failureOn,
  migrated,
  onDatabase,
  postgresDatabase,
  prepareSchema,
  query,
  tablesOf
} from "../fixtures/BackupFixture.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

// About 2.6 MiB of plaintext: three shards, so a late shard fails after earlier ones were applied.
const { databases, keys, source: seeded, store } = backupSuite(9000, 250)
let source: TestDatabase
let backup: CreatedBackup

beforeAll(async () => {
  source = await seeded()
  backup = await onDatabase(source, store.layer, createBackup({ keys: keys.create, kind: "full" }))
}, 120_000)

const restoreInto = (_target: TestDatabase, manifestText = backup.manifest, recipientKey = keys.recipient.privateKey, signingKey = keys.signing.publicKey) =>
  restoreBackup({ manifests: [{ label: "test", text: manifestText }], signingKey, recipientKey, prepareSchema })

const shardFile = (hash: string) => join(store.dir, hash.slice(0, 2), hash)

/** Restores with `fault` applied, expects `RestoreFailed`, checks the target is still empty, and undoes the fault. */
const failedRestore = async (fault: () => (() => void) | void, restore: (t: TestDatabase) => ReturnType<typeof restoreInto> = restoreInto) => {
  const target = await postgresDatabase(databases)
  const undo = fault()
  try {
    const error = await failureOn(target, store.layer, restore(target))
    expect(await tablesOf(target)).toEqual([])
    // The fields only: an error raised inside the stream carries its span, which vitest's matchers recurse into.
    return { _tag: error._tag, backup: error.backup, shard: error.shard, reason: error.reason }
  } finally {
    undo?.()
  }
}

describe("backup and restore", () => {
  it("commits a signed manifest over stored shards, with high-water marks, and records it in the catalog", async () => {
    expect(backup.shards).toBe(3)
    const manifest = await Effect.runPromise(verifyManifest(backup.manifest, keys.signing.publicKey))
    expect(manifest.details).toMatchObject({ kind: "full", parent: null, highWater: { auditSeq: 5, channelSeq: { c1: 4500, c2: 4500 } } })
    expect((manifest.details as { snapshot: { tables: Array<string> } }).snapshot.tables).toContain("plexi_messages")
    expect((manifest.details as { snapshot: { tables: Array<string> } }).snapshot.tables).not.toContain("plexi_migrations")
    for (const hash of manifest.shards) expect(readFileSync(shardFile(hash)).length).toBeGreaterThan(0)
    const [entry] = await onDatabase(source, store.layer, Catalog.list)
    expect(entry).toMatchObject({ id: backup.backupId, state: "committed", shards: 3, kind: "full", rows: backup.rows })
    expect(backup.rows).toBe(9000 + 3 + 2 + 3 + 3 + 5 + 1 + 2)
  })

  it("restores every covered table into an empty database, row for row, with its sequences", async () => {
    const target = await postgresDatabase(databases)
    const restored = await onDatabase(target, store.layer, restoreInto(target))
    expect(restored).toMatchObject({ backupId: backup.backupId, rows: backup.rows, shards: 3 })
    expect(await contents(target)).toEqual(await contents(source))
    const [next] = await query(target, "SELECT nextval('plexi_revocations_seq_seq')::int AS n")
    expect(next!.n).toBe(3)
  })

  it("stops at a flipped byte in a shard, naming the backup and the shard, and leaves nothing", async () => {
    const hash = (await Effect.runPromise(verifyManifest(backup.manifest, keys.signing.publicKey))).shards[2]
    const error = await failedRestore(() => {
      const original = readFileSync(shardFile(hash))
      const bytes = Buffer.from(original)
      bytes[100]! ^= 0x01
      writeFileSync(shardFile(hash), bytes)
      return () => writeFileSync(shardFile(hash), original)
    })
    expect(error).toMatchObject({ _tag: "RestoreFailed", backup: backup.backupId, shard: `2:${hash}` })
    expect(error.reason).toContain("does not match its hash")
  })

  it("stops at a shard missing from the store, naming it", async () => {
    const hash = (await Effect.runPromise(verifyManifest(backup.manifest, keys.signing.publicKey))).shards[1]
    const error = await failedRestore(() => {
      const original = readFileSync(shardFile(hash))
      rmSync(shardFile(hash))
      return () => writeFileSync(shardFile(hash), original)
    })
    expect(error).toMatchObject({ _tag: "RestoreFailed", backup: backup.backupId, shard: `1:${hash}` })
    expect(error.reason).toContain("ShardMissing")
  })

  it("refuses a private key the data key is not wrapped for", async () => {
    const other = generateRecipient()
    const error = await failedRestore(() => {}, (t) => restoreInto(t, backup.manifest, other.privateKey))
    expect(error).toMatchObject({ _tag: "RestoreFailed", backup: backup.backupId, shard: null })
    expect(error.reason).toContain("RecipientNotFound")
  })

  it("refuses a truncated manifest", async () => {
    const error = await failedRestore(() => {}, (t) => restoreInto(t, backup.manifest.slice(0, backup.manifest.length - 40)))
    // A truncated file still names the backup it claims to be, read from its text.
    expect(error).toMatchObject({ _tag: "RestoreFailed", backup: backup.backupId, shard: null })
    expect(error.reason).toContain("ManifestMalformed")
  })

  it("refuses a manifest signed by another key", async () => {
    const manifest = await Effect.runPromise(verifyManifest(backup.manifest, keys.signing.publicKey))
    const forged = await Effect.runPromise(signManifest(manifest, generateSigning().privateKey))
    const error = await failedRestore(() => {}, (t) => restoreInto(t, forged))
    expect(error).toMatchObject({ _tag: "RestoreFailed", backup: backup.backupId, shard: null })
    expect(error.reason).toContain("ManifestSignatureInvalid")
  })

  it("refuses a target database that is not empty, and changes nothing in it", async () => {
    const target = await postgresDatabase(databases)
    await migrated(target)
    const before = await contents(target)
    const error = await failureOn(target, store.layer, restoreInto(target))
    expect(error.reason).toContain("not empty")
    expect(await contents(target)).toEqual(before)
  })

  it("keeps nothing of a backup whose store fails mid-way (a full disk): the entry is failed, its shards are removed", async () => {
    const local = makeLocalShardDirectory(store.dir)
    let stores = 0
    // The real directory, refusing its second write the way a full disk does.
    const fullDisk = Layer.succeed(BackupShards, {
      ...local,
      store: (hash, bytes) =>
        ++stores === 2 ? Effect.fail(new ShardStoreFailed({ hash, reason: `writing to ${store.dir}: ENOSPC: no space left on device` })) : local.store(hash, bytes)
    })
    // A fresh directory object per listing: `list` of LocalShardDirectory can be run only once per object.
    const listed = () => onDatabase(source, store.layer, Stream.runCollect(makeLocalShardDirectory(store.dir).list))
    const before = await listed()
    const error = await failureOn(source, fullDisk, createBackup({ keys: keys.create, kind: "full" }))
    expect(error._tag).toBe("BackupFailed")
    expect(error.reason).toContain("ENOSPC")
    const entries = await onDatabase(source, store.layer, Catalog.list)
    expect(entries.find((e) => e.id === error.backupId)).toMatchObject({ state: "failed", error: expect.stringContaining("ENOSPC") })
    expect(await listed()).toEqual(before)
    expect(await query(source, "SELECT count(*)::int AS n FROM plexi_backup_shards WHERE backup_id = $1", [error.backupId])).toEqual([{ n: 0 }])
  })
})
