/**
 * One attempt of the durable backup job (docs/BACKUPS.md#the-backup-job), from the step its state records:
 * snapshot → chunk → encrypt → shard (store through `BackupShards`, record) → verify → commit. A resumed attempt
 * opens a new snapshot cut at the first one's high-water marks, regenerates the chunks already stored and compares
 * each one's keyed hash with the recorded one: equal chunks are skipped (neither sealed nor stored again), a
 * different one fails with `BackupDataChanged` (the job then restarts under a new id and data key, BackupJobs.ts).
 */
import { createHash } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { Data, Duration, Effect, Schema, Stream } from "effect"
import { BackupFailed } from "../../../domain/Backup.ts"
import type { CreateKeys } from "./BackupKeyFiles.ts"
import { encryptChunk, sealOverhead } from "../crypto/ChunkCipher.ts"
import { chunked } from "../crypto/ChunkStream.ts"
import { WrappedKey } from "../crypto/KeyWrap.ts"
import { signManifest } from "../crypto/ManifestSigning.ts"
import { merkleRootHex } from "../crypto/MerkleTree.ts"
import { type HighWater, openSnapshot } from "../snapshot/Snapshot.ts"
import { BackupShards } from "../store/BackupShards.ts"
import * as Catalog from "./BackupCatalog.ts"
import { BackupJobConfig } from "./BackupJobConfig.ts"
import { chunkMacOf, openDataKey } from "./JobKey.ts"
import { effectiveHighWater, estimateBytes, jobFilter, jobLayout } from "./JobSnapshot.ts"
import * as JobState from "./JobState.ts"
import { SnapshotSource } from "./SnapshotSource.ts"

/** A chunk already stored regenerated differently: the data changed under the backup. */
export class BackupDataChanged extends Data.TaggedError("BackupDataChanged")<{ readonly backupId: string; readonly index: number }> {}

const reasonOf = (e: { readonly _tag: string; readonly reason?: string; readonly message?: string }) => `${e._tag}: ${e.reason ?? e.message ?? ""}`

const parseHighWater = (text: string | null): HighWater | null => (text === null ? null : JSON.parse(text))

/** Observers of an attempt (metrics, a warning about copies). */
export interface RunHooks {
  readonly underReplicated: (hash: string, replicas: number, wanted: number) => Effect.Effect<void>
}

/** The shard step: every chunk of the snapshot stored and recorded, or skipped when it was stored before. */
const shardStep = (job: JobState.JobRow, dataKey: Uint8Array, hooks: RunHooks) =>
  Effect.scoped(Effect.gen(function*() {
    const shards = yield* BackupShards
    const { shardDelay } = yield* BackupJobConfig
    const own = parseHighWater(job.highWater)
    const header = { backupId: job.backupId, kind: job.kind, createdAt: job.createdAt }
    const source = yield* (yield* SnapshotSource).client
    const snapshot = yield* Effect.provideService(
      openSnapshot(header, jobFilter(parseHighWater(job.parentHighWater), own), jobLayout),
      SqlClient.SqlClient,
      source
    )
    // The node's own client: the snapshot holds the source's connection (an embedded copy has only one).
    const estimate = yield* Effect.flatMap(SqlClient.SqlClient, estimateBytes)
    yield* JobState.snapshotTaken(job.backupId, job.attempts, JSON.stringify(effectiveHighWater(own, snapshot.highWater)), estimate)
    const macs = yield* JobState.storedMacs(job.backupId)
    const mac = chunkMacOf(dataKey, job.backupId)
    yield* chunked(snapshot.bytes).pipe(
      Stream.zipWithIndex,
      Stream.runForEach(([{ last, plaintext }, index]) =>
        Effect.gen(function*() {
          const keyed = mac(plaintext)
          if (index < macs.length) {
            if (macs[index] !== keyed) return yield* new BackupDataChanged({ backupId: job.backupId, index })
            return
          }
          if (Duration.toMillis(shardDelay) > 0) yield* Effect.sleep(shardDelay)
          const sealed = yield* encryptChunk(dataKey, { backupId: job.backupId, index, last }, plaintext)
          const hash = createHash("sha256").update(sealed).digest("hex")
          const summary = last ? { rows: snapshot.rows(), schemaLevel: snapshot.schemaLevel, tables: snapshot.tables.map((t) => t.name) } : undefined
          // Stored and recorded together: a cancellation waits for both, so that no stored shard goes unrecorded.
          const placement = yield* Effect.uninterruptible(Effect.tap(shards.store(hash, sealed), (placement) =>
            JobState.chunkStored(job.backupId, job.attempts, {
              index,
              hash,
              plaintextBytes: sealed.length - sealOverhead,
              storedBytes: sealed.length,
              replicas: placement.replicas.length
            }, keyed, summary)))
          if (placement.replicas.length < placement.wanted) yield* hooks.underReplicated(hash, placement.replicas.length, placement.wanted)
        })
      )
    )
  }))

/** The verify step: every recorded shard read back (the store checks its hash), from where a previous attempt stopped. */
const verifyStep = (backupId: string, epoch: number, from: number) =>
  Effect.gen(function*() {
    const shards = yield* BackupShards
    const hashes = yield* Catalog.shardsOf(backupId)
    for (let index = from; index < hashes.length; index++) {
      yield* Effect.mapError(shards.retrieve(hashes[index]!), (e) => new BackupFailed({ backupId, reason: `verify: shard ${index}:${e.hash}: ${reasonOf(e)}` }))
      const done = index === hashes.length - 1
      if (done || index % 8 === 7) yield* JobState.verifiedUpTo(backupId, epoch, index + 1, done)
    }
    if (hashes.length === 0) return yield* new BackupFailed({ backupId, reason: "verify: no shard was recorded" })
  })

const decodeRecipients = Schema.decodeUnknown(Schema.parseJson(Schema.NonEmptyArray(WrappedKey)))

/** The commit step: the signed manifest in the catalog, the job's state gone, in one transaction. */
const commitStep = (job: JobState.JobRow, keys: CreateKeys) =>
  Effect.gen(function*() {
    const hashes = yield* Catalog.shardsOf(job.backupId)
    const summary: JobState.SnapshotSummary = JSON.parse(job.summary ?? "null")
    const stored = yield* Catalog.find(job.backupId)
    const plaintextBytes = stored._tag === "Some" ? stored.value.entry.plaintextBytes : 0
    const details = {
      kind: job.kind,
      parent: job.parent,
      snapshot: { format: "plexichat.backup.snapshot", version: 1, schemaLevel: summary.schemaLevel, tables: summary.tables },
      highWater: parseHighWater(job.highWater),
      plaintextBytes,
      rows: summary.rows
    }
    const manifest = yield* signManifest({
      format: "plexichat.backup.manifest",
      version: 1,
      backupId: job.backupId,
      createdAt: job.createdAt,
      chunkSize: 1048576,
      shards: hashes as [string, ...Array<string>],
      merkleRoot: merkleRootHex(hashes),
      recipients: yield* decodeRecipients(job.recipients),
      details
    }, keys.signing)
    const committedAt = Date.now()
    yield* JobState.finish(job.backupId, job.attempts, Catalog.commit(job.backupId, manifest, committedAt, summary.rows))
    return committedAt
  })

/**
 * Runs the job from its recorded step to its commit as attempt `job.attempts` (its fencing token); answers the commit
 * time. Interrupting it keeps its state (another node resumes).
 */
export const runAttempt = (job: JobState.JobRow, keys: CreateKeys, hooks: RunHooks) =>
  Effect.gen(function*() {
    const dataKey = yield* openDataKey(keys.signing, job.backupId, job.sealedKey)
    if (job.step === "snapshot" || job.step === "shard") yield* shardStep(job, dataKey, hooks)
    const afterShards = yield* Effect.flatMap(JobState.current, (row) =>
      row._tag === "Some" && row.value.backupId === job.backupId ? Effect.succeed(row.value) : Effect.fail(new BackupFailed({ backupId: job.backupId, reason: "the job's state is gone" })))
    if (afterShards.step === "verify") yield* verifyStep(job.backupId, job.attempts, afterShards.verified)
    return yield* commitStep(afterShards, keys)
  }).pipe(
    Effect.catchIf(
      (e): e is Exclude<typeof e, BackupFailed | BackupDataChanged | JobState.BackupJobTakenOver> =>
        e._tag !== "BackupFailed" && e._tag !== "BackupDataChanged" && e._tag !== "BackupJobTakenOver",
      (e) => Effect.fail(new BackupFailed({ backupId: job.backupId, reason: reasonOf(e as any) }))
    )
  )
