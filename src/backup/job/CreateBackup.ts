/**
 * A backup, step by step (docs/BACKUPS.md#making-a-backup): snapshot → chunk → encrypt → shard (store and record
 * each) → verify (read every shard back and check its hash) → commit the signed manifest. The catalog entry is
 * written first (`running`); any failure marks it `failed` with the reason and removes the shards already stored,
 * so nothing of a failed backup stays behind.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Stream } from "effect"
import { BackupFailed, type BackupKind } from "../../../domain/Backup.ts"
import { BackupShards } from "../store/BackupShards.ts"
import { generateDataKey, sealOverhead } from "../crypto/ChunkCipher.ts"
import { sealStream } from "../crypto/ChunkStream.ts"
import { wrapDataKey } from "../crypto/KeyWrap.ts"
import { merkleRootHex } from "../crypto/MerkleTree.ts"
import { signManifest } from "../crypto/ManifestSigning.ts"
import { type HighWater, openSnapshot, type RowFilter } from "../snapshot/Snapshot.ts"
import * as Catalog from "./BackupCatalog.ts"
import { newBackupId } from "./BackupId.ts"
import type { CreateKeys } from "./BackupKeyFiles.ts"

export interface BackupProgress {
  readonly backupId: string
  readonly step: "shard" | "verify" | "commit"
  readonly shards: number
  readonly plaintextBytes: number
  readonly storedBytes: number
}

export interface CreateOptions {
  readonly keys: CreateKeys
  readonly kind: BackupKind
  /** The parent's id (incremental backups) and the row filter after its high-water marks. */
  readonly parent?: { readonly id: string; readonly filter: RowFilter }
  readonly onProgress?: (progress: BackupProgress) => Effect.Effect<void>
}

export interface CreatedBackup {
  readonly backupId: string
  /** The manifest's `createdAt` (ms): when the backup started, before its snapshot was taken. */
  readonly createdAt: number
  readonly kind: BackupKind
  readonly parent: string | null
  readonly shards: number
  readonly plaintextBytes: number
  readonly storedBytes: number
  readonly rows: number
  readonly highWater: HighWater
  /** The signed manifest file (also in the catalog). */
  readonly manifest: string
  /** Fewer copies than wanted of some shard (a single store): a warning to report. */
  readonly underReplicated: boolean
}

const reasonOf = (e: { readonly _tag: string; readonly reason?: string; readonly message?: string }) => `${e._tag}: ${e.reason ?? e.message ?? ""}`

/** Snapshot → chunk → encrypt → store, recording each shard; the snapshot's metadata and the totals. */
const storeShards = (backupId: string, createdAt: number, dataKey: Uint8Array, options: CreateOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const shards = yield* BackupShards
    const snapshot = yield* openSnapshot({ backupId, kind: options.kind, createdAt }, options.parent?.filter)
    const totals = { shards: 0, plaintextBytes: 0, storedBytes: 0, underReplicated: false }
    const hashes: Array<string> = []
    yield* snapshot.bytes.pipe(
      sealStream(dataKey, backupId),
      Stream.runForEach((chunk) =>
        Effect.gen(function*() {
          const placement = yield* shards.store(chunk.hash, chunk.sealed)
          const plaintextBytes = chunk.sealed.length - sealOverhead
          yield* Catalog.recordShard(backupId, { index: chunk.index, hash: chunk.hash, plaintextBytes, storedBytes: chunk.sealed.length, replicas: placement.replicas.length })
          hashes.push(chunk.hash)
          totals.shards += 1
          totals.plaintextBytes += plaintextBytes
          totals.storedBytes += chunk.sealed.length
          totals.underReplicated ||= placement.replicas.length < placement.wanted
          if (options.onProgress) yield* options.onProgress({ backupId, step: "shard", ...totals })
        })
      )
    )
    return { snapshot, hashes, totals }
  }))

/** Reads every shard back from the store (which checks its hash) and checks it is the one recorded. */
const verifyShards = (backupId: string, hashes: ReadonlyArray<string>) =>
  Effect.flatMap(BackupShards, (shards) =>
    Effect.forEach(hashes, (hash, index) =>
      shards.retrieve(hash).pipe(
        Effect.mapError((e) => new BackupFailed({ backupId, reason: `verify: shard ${index}:${hash}: ${reasonOf(e)}` }))
      ), { discard: true }))

/** Removes what a failed backup stored, and marks its entry failed with the reason. */
const abandon = (backupId: string, reason: string) =>
  Effect.gen(function*() {
    const shards = yield* BackupShards
    const stored = yield* Catalog.shardsOf(backupId)
    yield* Effect.forEach(stored, (hash) => Effect.ignore(shards.remove(hash)), { discard: true })
    yield* Catalog.fail(backupId, reason)
  }).pipe(Effect.ignore)

/** Makes one backup, full or incremental. */
export const createBackup = (options: CreateOptions): Effect.Effect<CreatedBackup, BackupFailed, SqlClient.SqlClient | BackupShards> =>
  Effect.gen(function*() {
    const createdAt = Date.now()
    const backupId = newBackupId(createdAt)
    const parent = options.parent?.id ?? null
    const failed = (e: { readonly _tag: string; readonly reason?: string; readonly message?: string }) =>
      e._tag === "BackupFailed" ? (e as BackupFailed) : new BackupFailed({ backupId, reason: reasonOf(e) })
    yield* Effect.mapError(Catalog.start(backupId, options.kind, parent, createdAt), failed)
    const run = Effect.gen(function*() {
      const dataKey = generateDataKey()
      const recipients = yield* wrapDataKey(dataKey, options.keys.recipients, backupId)
      const { hashes, snapshot, totals } = yield* storeShards(backupId, createdAt, dataKey, options)
      if (options.onProgress) yield* options.onProgress({ backupId, step: "verify", ...totals })
      yield* verifyShards(backupId, hashes)
      const rows = snapshot.rows()
      const details = {
        kind: options.kind,
        parent,
        snapshot: { format: "plexichat.backup.snapshot", version: 1, schemaLevel: snapshot.schemaLevel, tables: snapshot.tables.map((t) => t.name) },
        highWater: snapshot.highWater,
        plaintextBytes: totals.plaintextBytes,
        rows
      }
      const manifest = yield* signManifest({
        format: "plexichat.backup.manifest",
        version: 1,
        backupId,
        createdAt,
        chunkSize: 1048576,
        shards: hashes as [string, ...Array<string>],
        merkleRoot: merkleRootHex(hashes),
        recipients: recipients as [typeof recipients[number], ...Array<typeof recipients[number]>],
        details
      }, options.keys.signing)
      if (options.onProgress) yield* options.onProgress({ backupId, step: "commit", ...totals })
      yield* Catalog.commit(backupId, manifest, Date.now(), rows)
      return { backupId, createdAt, kind: options.kind, parent, ...totals, rows, highWater: snapshot.highWater, manifest } satisfies CreatedBackup
    })
    return yield* run.pipe(
      Effect.mapError(failed),
      Effect.tapError((e) => abandon(backupId, e.reason)),
      Effect.onInterrupt(() => abandon(backupId, "cancelled"))
    )
  })
