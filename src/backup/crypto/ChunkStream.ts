/**
 * A backup's byte stream cut into 1 MiB chunks and sealed one at a time (`ChunkCipher`), never holding more than two
 * plaintext chunks: the last full chunk is held back until the stream says whether more bytes follow, so that the
 * `last` flag is right (a backup of exactly n MiB ends with a full last chunk, an empty backup is one empty last
 * chunk). One sealed chunk is made ahead while the consumer stores the one before (its writes and fsync overlap the
 * snapshot's reads).
 */
import { createHash } from "node:crypto"
import { Effect, Stream } from "effect"
import type { ChunkInvalid } from "./BackupCryptoErrors.ts"
import { chunkSize, encryptChunk } from "./ChunkCipher.ts"

/** One sealed chunk (a shard) and its address, `SHA-256(sealed)` in hex. */
export interface SealedChunk {
  readonly index: number
  readonly last: boolean
  readonly sealed: Uint8Array
  readonly hash: string
}

export interface Plain {
  readonly plaintext: Uint8Array
  readonly last: boolean
}

/** The plaintext chunks of `bytes`, each flagged last or not (the durable job hashes them before sealing). */
export const chunked = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Plain, E, R> =>
  Stream.suspend(() => {
    let buffer = new Uint8Array(chunkSize)
    let filled = 0
    let held: Uint8Array | undefined
    const cut = (input: Uint8Array): Array<Plain> => {
      const out: Array<Plain> = []
      for (let offset = 0; offset < input.length;) {
        const take = Math.min(chunkSize - filled, input.length - offset)
        buffer.set(input.subarray(offset, offset + take), filled)
        filled += take
        offset += take
        if (filled === chunkSize) {
          if (held !== undefined) out.push({ plaintext: held, last: false })
          held = buffer
          buffer = new Uint8Array(chunkSize)
          filled = 0
        }
      }
      return out
    }
    const end = (): Array<Plain> =>
      filled === 0 && held !== undefined
        ? [{ plaintext: held, last: true }]
        : [...(held === undefined ? [] : [{ plaintext: held, last: false }]), { plaintext: buffer.subarray(0, filled), last: true }]
    return Stream.concat(Stream.mapConcat(bytes, cut), Stream.suspend(() => Stream.fromIterable(end())))
  })

/** Seals `bytes` chunk by chunk under the backup's data key, in order, with each shard's hash. */
export const sealStream = (dataKey: Uint8Array, backupId: string) => <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<SealedChunk, E | ChunkInvalid, R> =>
  chunked(bytes).pipe(
    Stream.zipWithIndex,
    Stream.mapEffect(([{ last, plaintext }, index]) =>
      Effect.map(encryptChunk(dataKey, { backupId, index, last }, plaintext), (sealed) => ({
        index,
        last,
        sealed,
        hash: createHash("sha256").update(sealed).digest("hex")
      }))
    ),
    Stream.buffer({ capacity: 1 })
  )
