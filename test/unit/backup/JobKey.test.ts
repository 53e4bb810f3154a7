/**
 * The durable job's secrets at rest (src/backup/job/JobKey.ts): the data key sealed under the signing key opens
 * with that key and that backup id only, and any flipped bit is refused; the seal is never the key in plain form
 * and never the same twice; the chunk MAC is keyed by the data key and the backup id.
 */
import { createHmac, hkdfSync } from "node:crypto"
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { generateSigning } from "../../../src/backup/crypto/BackupKeys.ts"
import { generateDataKey } from "../../../src/backup/crypto/ChunkCipher.ts"
import { chunkMacOf, openDataKey, sealDataKey } from "../../../src/backup/job/JobKey.ts"
import { failure, flipped, run } from "./Run.ts"

const signing = generateSigning().privateKey
const other = generateSigning().privateKey
const id = "bk_0123456789abcdefghijklmnop"

describe("job key", () => {
  test.prop([fc.uint8Array({ minLength: 32, maxLength: 32 })], { numRuns: 30 })("opens with the signing key and backup id it was sealed for", (dataKey) => {
    const sealed = sealDataKey(signing, id, dataKey)
    expect(sealed.length).toBe(12 + 32 + 16)
    expect(Buffer.from(sealed).includes(Buffer.from(dataKey))).toBe(false)
    expect(run(openDataKey(signing, id, sealed))).toEqual(dataKey)
    expect(sealDataKey(signing, id, dataKey)).not.toEqual(sealed)
  })

  it("refuses another signing key, another backup id and every flipped bit, naming the likely cause", () => {
    const sealed = sealDataKey(signing, id, generateDataKey())
    expect(failure(openDataKey(other, id, sealed))).toMatchObject({ _tag: "BackupFailed", backupId: id, reason: expect.stringContaining("PLEXI_BACKUP_SIGNING_KEY") })
    expect(failure(openDataKey(signing, `${id}x`, sealed))._tag).toBe("BackupFailed")
    for (let bit = 0; bit < sealed.length * 8; bit += 7) expect(failure(openDataKey(signing, id, flipped(sealed, bit)))._tag).toBe("BackupFailed")
  })

  it("keys the chunk MAC with HKDF of the data key and the backup id", () => {
    const dataKey = generateDataKey()
    const plaintext = new TextEncoder().encode("a chunk")
    const macKey = Buffer.from(hkdfSync("sha256", dataKey, Buffer.from("plexichat-backup-chunk-mac-v1"), Buffer.from(id), 32))
    expect(chunkMacOf(dataKey, id)(plaintext)).toBe(createHmac("sha256", macKey).update(plaintext).digest("hex"))
    expect(chunkMacOf(dataKey, `${id}x`)(plaintext)).not.toBe(chunkMacOf(dataKey, id)(plaintext))
    expect(chunkMacOf(generateDataKey(), id)(plaintext)).not.toBe(chunkMacOf(dataKey, id)(plaintext))
  })
})
