/**
 * AES-256-GCM of a backup's chunks, one chunk at a time (docs/BACKUPS.md#cryptography).
 *
 * A chunk is the plaintext of 1 MiB (`chunkSize`); only the last chunk of a backup may be shorter (or empty, when
 * the whole backup is). A sealed chunk is `0x01 || nonce (12) || ciphertext || tag (16)`, the ciphertext as long as
 * the plaintext. The additional authenticated data binds the backup id, the chunk index and whether the chunk is
 * the last one, so a chunk moved to another position, another backup, or a backup cut short after a chunk that was
 * not the last, fails authentication.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import { Effect } from "effect"
import { ChunkInvalid, ChunkTampered } from "./BackupCryptoErrors.ts"

export const chunkSize = 1024 * 1024
export const chunkVersion = 0x01
export const nonceLength = 12
export const tagLength = 16
/** Version byte, nonce and tag around the ciphertext. */
export const sealOverhead = 1 + nonceLength + tagLength
/**
 * Nonces are 96 random bits per chunk (SP 800-38D §8.2.2). They are random, not derived from the index, so that a
 * chunk encrypted again after a job resumed (from a snapshot that may differ) can never reuse a nonce under the
 * backup's data key. A data key serves one backup only, and a backup holds at most 2^32 chunks (4 PiB): the chance
 * that two of them share a nonce stays below 2^-33 (the birthday bound n^2 / 2^97), within SP 800-38D §8.3's 2^-32.
 */
export const maxChunks = 2 ** 32
const maxBackupIdBytes = 255
const aadLabel = Buffer.from("plexichat-backup-chunk-v1\0", "ascii")

/** Where a chunk sits: its backup, its index from 0, and whether it is the backup's last chunk. */
export interface ChunkPosition {
  readonly backupId: string
  readonly index: number
  readonly last: boolean
}

const invalid = (reason: string) => new ChunkInvalid({ reason })

/** `"plexichat-backup-chunk-v1" 0x00 || u8 len || backup id (UTF-8) || u64 index (big-endian) || u8 last`. */
export const chunkAad = (position: ChunkPosition): Effect.Effect<Buffer, ChunkInvalid> =>
  Effect.suspend(() => {
    const id = Buffer.from(position.backupId, "utf8")
    if (id.length === 0 || id.length > maxBackupIdBytes) return Effect.fail(invalid(`a backup id is 1 to ${maxBackupIdBytes} bytes of UTF-8`))
    if (!Number.isSafeInteger(position.index) || position.index < 0 || position.index >= maxChunks) {
      return Effect.fail(invalid(`a chunk index is 0 to ${maxChunks - 1}`))
    }
    const tail = Buffer.alloc(9)
    tail.writeBigUInt64BE(BigInt(position.index), 0)
    tail[8] = position.last ? 1 : 0
    return Effect.succeed(Buffer.concat([aadLabel, Buffer.from([id.length]), id, tail]))
  })

const checkKey = (dataKey: Uint8Array) => dataKey.length === 32 ? Effect.void : Effect.fail(invalid("a data key is 32 bytes"))

const checkLength = (length: number, last: boolean) =>
  length > chunkSize || (!last && length !== chunkSize)
    ? Effect.fail(invalid(`a chunk is ${chunkSize} bytes (the last one 0 to ${chunkSize}), not ${length}`))
    : Effect.void

/** The bytes of `b` as a plain Uint8Array: a view when `b` has its memory to itself (no copy), else a copy (Node's pool). */
const plain = (b: Buffer): Uint8Array => b.byteOffset === 0 && b.buffer.byteLength === b.byteLength ? new Uint8Array(b.buffer) : Uint8Array.from(b)

/** A fresh random 256-bit data key for one backup. */
export const generateDataKey = (): Uint8Array => Uint8Array.from(randomBytes(32))

/** Seals one chunk's plaintext at `position` under the backup's data key. */
export const encryptChunk = (dataKey: Uint8Array, position: ChunkPosition, plaintext: Uint8Array): Effect.Effect<Uint8Array, ChunkInvalid> =>
  Effect.gen(function*() {
    yield* checkKey(dataKey)
    yield* checkLength(plaintext.length, position.last)
    const aad = yield* chunkAad(position)
    const nonce = randomBytes(nonceLength)
    const cipher = createCipheriv("aes-256-gcm", dataKey, nonce, { authTagLength: tagLength })
    cipher.setAAD(aad)
    const body = cipher.update(plaintext)
    const final = cipher.final()
    // One copy into the sealed chunk; a view on it, not a Buffer (callers compare with Uint8Array).
    return plain(Buffer.concat([Buffer.from([chunkVersion]), nonce, body, final, cipher.getAuthTag()]))
  })

/** Opens a sealed chunk that must sit at `position`; any change to it, or another position, fails with `ChunkTampered`. */
export const decryptChunk = (
  dataKey: Uint8Array,
  position: ChunkPosition,
  sealed: Uint8Array
): Effect.Effect<Uint8Array, ChunkInvalid | ChunkTampered> =>
  Effect.gen(function*() {
    yield* checkKey(dataKey)
    const aad = yield* chunkAad(position)
    const tampered = new ChunkTampered({ backupId: position.backupId, index: position.index })
    // A wrong version byte or length is a changed chunk too (the format has one version so far).
    if (sealed.length < sealOverhead || sealed[0] !== chunkVersion) return yield* Effect.fail(tampered)
    const bodyLength = sealed.length - sealOverhead
    if (bodyLength > chunkSize || (!position.last && bodyLength !== chunkSize)) return yield* Effect.fail(tampered)
    const nonce = sealed.subarray(1, 1 + nonceLength)
    const decipher = createDecipheriv("aes-256-gcm", dataKey, nonce, { authTagLength: tagLength })
    decipher.setAAD(aad)
    decipher.setAuthTag(sealed.subarray(sealed.length - tagLength))
    return yield* Effect.try({
      try: () => {
        const body = decipher.update(sealed.subarray(1 + nonceLength, sealed.length - tagLength))
        const final = decipher.final()
        return plain(final.length === 0 ? body : Buffer.concat([body, final]))
      },
      catch: () => tampered
    })
  })
