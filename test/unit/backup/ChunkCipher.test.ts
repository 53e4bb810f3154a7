/**
 * Chunk encryption: sealed chunks open only at the position they were sealed for, under their backup's data key;
 * any flipped bit, a swap, a reorder, a move to another backup or a backup cut short is refused as ChunkTampered.
 */
import { createCipheriv, randomBytes } from "node:crypto"
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { chunkSize, decryptChunk, encryptChunk, generateDataKey, maxChunks, sealOverhead } from "../../../src/backup/crypto/ChunkCipher.ts"
import { failure, flipped, run } from "./Run.ts"

const key = generateDataKey()
const full = () => Uint8Array.from(randomBytes(chunkSize))

describe("chunk cipher", () => {
  test.prop([fc.uint8Array({ maxLength: 4096 }), fc.string({ minLength: 1, maxLength: 60 }), fc.nat({ max: maxChunks - 1 })])(
    "opens what it sealed, at the same position",
    (plaintext, backupId, index) => {
      const sealed = run(encryptChunk(key, { backupId, index, last: true }, plaintext))
      expect(sealed.length).toBe(plaintext.length + sealOverhead)
      expect(run(decryptChunk(key, { backupId, index, last: true }, sealed))).toEqual(plaintext)
    }
  )

  it("seals a full 1 MiB chunk and opens it", () => {
    const plaintext = full()
    const sealed = run(encryptChunk(key, { backupId: "b1", index: 0, last: false }, plaintext))
    expect(Buffer.from(run(decryptChunk(key, { backupId: "b1", index: 0, last: false }, sealed))).equals(plaintext)).toBe(true)
  })

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat()])("refuses a chunk with any bit flipped (version, nonce, ciphertext, tag)", (plaintext, pick) => {
    const position = { backupId: "b1", index: 7, last: true }
    const sealed = run(encryptChunk(key, position, plaintext))
    const bit = pick % (sealed.length * 8)
    expect(failure(decryptChunk(key, position, flipped(sealed, bit)))._tag).toBe("ChunkTampered")
  })

  it("refuses a chunk at another index, in another backup, under another key or with the last flag changed", () => {
    const sealed = run(encryptChunk(key, { backupId: "b1", index: 3, last: true }, Uint8Array.of(1, 2, 3)))
    for (const [k, position] of [
      [key, { backupId: "b1", index: 4, last: true }],
      [key, { backupId: "b2", index: 3, last: true }],
      [generateDataKey(), { backupId: "b1", index: 3, last: true }]
    ] as const) {
      expect(failure(decryptChunk(k, position, sealed))).toMatchObject({ _tag: "ChunkTampered", backupId: position.backupId, index: position.index })
    }
  })

  it("refuses two chunks swapped, and a backup cut short after a chunk that was not its last", () => {
    const [a, b] = [full(), full()]
    const sealedA = run(encryptChunk(key, { backupId: "b1", index: 0, last: false }, a))
    const sealedB = run(encryptChunk(key, { backupId: "b1", index: 1, last: false }, b))
    expect(failure(decryptChunk(key, { backupId: "b1", index: 0, last: false }, sealedB))._tag).toBe("ChunkTampered")
    expect(failure(decryptChunk(key, { backupId: "b1", index: 1, last: false }, sealedA))._tag).toBe("ChunkTampered")
    // Chunk 1 presented as the last chunk: the reader was told the backup ends there, the writer did not say so.
    expect(failure(decryptChunk(key, { backupId: "b1", index: 1, last: true }, sealedB))._tag).toBe("ChunkTampered")
  })

  it("uses a fresh nonce for every seal, so the same chunk sealed twice differs", () => {
    const position = { backupId: "b1", index: 0, last: true }
    const [x, y] = [run(encryptChunk(key, position, Uint8Array.of(9))), run(encryptChunk(key, position, Uint8Array.of(9)))]
    expect(Buffer.from(x.subarray(1, 13)).equals(y.subarray(1, 13))).toBe(false)
  })

  it("refuses chunks, keys, indexes and backup ids outside the format", () => {
    const cases = [
      encryptChunk(key, { backupId: "b1", index: 0, last: false }, Uint8Array.of(1)),
      encryptChunk(key, { backupId: "b1", index: 0, last: true }, new Uint8Array(chunkSize + 1)),
      encryptChunk(key.subarray(0, 16), { backupId: "b1", index: 0, last: true }, Uint8Array.of(1)),
      encryptChunk(key, { backupId: "b1", index: maxChunks, last: true }, Uint8Array.of(1)),
      encryptChunk(key, { backupId: "b1", index: -1, last: true }, Uint8Array.of(1)),
      encryptChunk(key, { backupId: "", index: 0, last: true }, Uint8Array.of(1)),
      encryptChunk(key, { backupId: "é".repeat(128), index: 0, last: true }, Uint8Array.of(1))
    ]
    for (const effect of cases) expect(failure(effect)._tag).toBe("ChunkInvalid")
    expect(failure(decryptChunk(key, { backupId: "b1", index: 0, last: true }, new Uint8Array(sealOverhead - 1)))._tag).toBe("ChunkTampered")
  })

  it("opens a chunk sealed by hand from docs/BACKUPS.md's description of the format", () => {
    const backupId = "bk_2026-12-02"
    const nonce = randomBytes(12)
    const id = Buffer.from(backupId, "utf8")
    const aad = Buffer.concat([Buffer.from("plexichat-backup-chunk-v1\0"), Buffer.from([id.length]), id, Buffer.from("0000000000000005", "hex"), Buffer.from([1])])
    const cipher = createCipheriv("aes-256-gcm", key, nonce)
    cipher.setAAD(aad)
    const body = Buffer.concat([cipher.update("the last chunk"), cipher.final()])
    const sealed = Buffer.concat([Buffer.from([1]), nonce, body, cipher.getAuthTag()])
    expect(Buffer.from(run(decryptChunk(key, { backupId, index: 5, last: true }, sealed))).toString()).toBe("the last chunk")
  })
})
