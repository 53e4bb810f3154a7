/**
 * A backup's plaintext, shard by shard: retrieve → check the SHA-256 against the manifest → decrypt at its position
 * (the last shard flagged last). One shard is held at a time. Any failure is `RestoreFailed` naming the backup, the
 * shard (`<index>:<hash>`) and the reason.
 */
import { createHash } from "node:crypto"
import { Effect, Stream } from "effect"
import { RestoreFailed } from "../../../domain/Backup.ts"
import { decryptChunk } from "../crypto/ChunkCipher.ts"
import type { Manifest } from "../crypto/Manifest.ts"
import { BackupShards } from "../store/BackupShards.ts"

export const plaintextOf = (manifest: Manifest, dataKey: Uint8Array): Stream.Stream<Uint8Array, RestoreFailed, BackupShards> =>
  Stream.fromIterable(manifest.shards.map((hash, index) => ({ hash, index }))).pipe(
    Stream.mapEffect(({ hash, index }) =>
      Effect.gen(function*() {
        const shard = `${index}:${hash}`
        const failed = (reason: string) => new RestoreFailed({ backup: manifest.backupId, shard, reason })
        const store = yield* BackupShards
        const sealed = yield* Effect.mapError(store.retrieve(hash), (e) => failed(`${e._tag}: ${e.reason}`))
        const actual = createHash("sha256").update(sealed).digest("hex")
        if (actual !== hash) return yield* Effect.fail(failed(`hash mismatch: the shard read has SHA-256 ${actual}`))
        const position = { backupId: manifest.backupId, index, last: index === manifest.shards.length - 1 }
        return yield* decryptChunk(dataKey, position, sealed).pipe(
          Effect.mapError((e) => failed(e._tag === "ChunkTampered" ? "ChunkTampered: the shard does not authenticate under the backup's data key at its position" : `ChunkInvalid: ${e.reason}`))
        )
      })
    )
  )
