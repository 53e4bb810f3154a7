/**
 * The manifest half of a scrub (docs/BACKUPS.md#shard-stores): every committed backup's signed manifest is verified
 * against the signing public key (canonical form, signer, signature, Merkle root) and each shard it names is looked
 * up in the stores (`BackupShards.has`: present somewhere; the shard scrub reads the copies). Each problem names the
 * backup, the shard when one is at fault, and the reason. One log line per pass, at Warning when anything is wrong.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Effect } from "effect"
import type { SigningPublicKey } from "../crypto/BackupKeys.ts"
import { manifestFailureReason, verifyManifest } from "../crypto/ManifestSigning.ts"
import { BackupShards } from "../store/BackupShards.ts"

export interface ManifestProblem {
  readonly backup: string
  /** `<index>:<hash>` when one shard is at fault. */
  readonly shard: string | null
  readonly reason: string
}

export interface ManifestScrubReport {
  readonly manifests: number
  readonly shardsChecked: number
  readonly problems: ReadonlyArray<ManifestProblem>
}

const committedManifests = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ id: string; manifest: string }>`SELECT id, manifest FROM plexi_backups WHERE state = 'committed' ORDER BY created_at, id`)

const checkOne = (id: string, text: string, key: SigningPublicKey, problems: Array<ManifestProblem>) =>
  Effect.gen(function*() {
    const shards = yield* BackupShards
    const verified = yield* Effect.either(verifyManifest(text, key))
    if (verified._tag === "Left") {
      const e = verified.left
      problems.push({ backup: id, shard: null, reason: manifestFailureReason(e) })
      return 0
    }
    const manifest = verified.right
    if (manifest.backupId !== id) problems.push({ backup: id, shard: null, reason: `the manifest is of backup ${manifest.backupId}` })
    yield* Effect.forEach(manifest.shards, (hash, index) =>
      shards.has(hash).pipe(
        Effect.map((present) => (present ? undefined : problems.push({ backup: id, shard: `${index}:${hash}`, reason: "ShardMissing: no store holds it" }))),
        Effect.catchAll((e) => Effect.sync(() => problems.push({ backup: id, shard: `${index}:${hash}`, reason: `${e._tag}: ${e.reason}` })))
      ), { concurrency: 4, discard: true })
    return manifest.shards.length
  })

export const scrubManifests = (key: SigningPublicKey): Effect.Effect<ManifestScrubReport, SqlError.SqlError, SqlClient.SqlClient | BackupShards> =>
  Effect.gen(function*() {
    const rows = yield* committedManifests
    const problems: Array<ManifestProblem> = []
    let shardsChecked = 0
    for (const { id, manifest } of rows) shardsChecked += yield* checkOne(id, manifest, key, problems)
    const report = { manifests: rows.length, shardsChecked, problems } satisfies ManifestScrubReport
    const parts = [`${rows.length} manifests, ${shardsChecked} shards looked up`, ...problems.map((p) => `backup ${p.backup}${p.shard === null ? "" : ` shard ${p.shard}`}: ${p.reason}`)]
    yield* (problems.length > 0 ? Effect.logWarning : Effect.logInfo)(`backup manifest scrub: ${parts.join("; ")}`)
    return report
  })
