/**
 * Data-key wrapping with the hybrid X25519 + ML-KEM-768 KEM: every recipient opens its copy with its private key
 * alone; another recipient's key, a changed field, another backup's id or a mixed-up pair of halves is refused.
 */
import { createDecipheriv, createHash, diffieHellman, hkdfSync } from "node:crypto"
import { fc, test } from "@fast-check/vitest"
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js"
import { describe, expect, it } from "vitest"
import { decode, encode } from "../../../src/backup/crypto/Base64Url.ts"
import { generateRecipient, mlkemSecretOf, recipientFingerprint } from "../../../src/backup/crypto/BackupKeys.ts"
import { generateDataKey } from "../../../src/backup/crypto/ChunkCipher.ts"
import { unwrapDataKey, type WrappedKey, wrapDataKey } from "../../../src/backup/crypto/KeyWrap.ts"
import { privateKeyOf, publicKeyOf } from "../../../src/backup/crypto/RawKeys.ts"
import { failure, flipped, run } from "./Run.ts"

const alice = generateRecipient()
const bob = generateRecipient()
const carol = generateRecipient()

describe("key wrap", () => {
  test.prop([fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string({ minLength: 1, maxLength: 40 })], { numRuns: 20 })(
    "every recipient opens the data key wrapped for it",
    (dataKey, backupId) => {
      const wrapped = run(wrapDataKey(dataKey, [alice.publicKey, bob.publicKey], backupId))
      expect(wrapped.map((w) => w.recipient)).toEqual([recipientFingerprint(alice.publicKey), recipientFingerprint(bob.publicKey)])
      expect(run(unwrapDataKey(wrapped, alice.privateKey, backupId))).toEqual(dataKey)
      expect(run(unwrapDataKey(wrapped, bob.privateKey, backupId))).toEqual(dataKey)
    }
  )

  it("refuses a recipient the key was not wrapped for", () => {
    const wrapped = run(wrapDataKey(generateDataKey(), [alice.publicKey], "b1"))
    expect(failure(unwrapDataKey(wrapped, carol.privateKey, "b1"))).toMatchObject({ _tag: "RecipientNotFound", fingerprint: recipientFingerprint(carol.publicKey) })
  })

  it("refuses a wrapped key readdressed to a private key it was not made for", () => {
    const [entry] = run(wrapDataKey(generateDataKey(), [alice.publicKey], "b1"))
    const readdressed = [{ ...entry!, recipient: recipientFingerprint(carol.publicKey) }]
    expect(failure(unwrapDataKey(readdressed, carol.privateKey, "b1"))._tag).toBe("WrappedKeyInvalid")
  })

  const fields = ["ephemeralX25519", "mlkemCiphertext", "wrappedKey"] as const
  test.prop([fc.constantFrom(...fields), fc.nat()], { numRuns: 30 })("refuses a wrapped key with any bit of any field flipped", (field, pick) => {
    const [entry] = run(wrapDataKey(generateDataKey(), [alice.publicKey], "b1"))
    const bytes = decode(entry![field])
    const tampered: WrappedKey = { ...entry!, [field]: encode(flipped(bytes, pick % (bytes.length * 8))) }
    expect(failure(unwrapDataKey([tampered], alice.privateKey, "b1"))._tag).toBe("WrappedKeyInvalid")
  })

  it("refuses a wrapped key moved to another backup, or with its X25519 and ML-KEM halves from two wraps", () => {
    const [one] = run(wrapDataKey(generateDataKey(), [alice.publicKey], "b1"))
    const [two] = run(wrapDataKey(generateDataKey(), [alice.publicKey], "b1"))
    expect(failure(unwrapDataKey([one!], alice.privateKey, "b2"))._tag).toBe("WrappedKeyInvalid")
    expect(failure(unwrapDataKey([{ ...one!, mlkemCiphertext: two!.mlkemCiphertext }], alice.privateKey, "b1"))._tag).toBe("WrappedKeyInvalid")
    expect(failure(unwrapDataKey([{ ...one!, ephemeralX25519: two!.ephemeralX25519 }], alice.privateKey, "b1"))._tag).toBe("WrappedKeyInvalid")
  })

  it("refuses to wrap for no recipient, a short data key, or a low-order X25519 key", () => {
    expect(failure(wrapDataKey(generateDataKey(), [], "b1"))._tag).toBe("ChunkInvalid")
    expect(failure(wrapDataKey(new Uint8Array(16), [alice.publicKey], "b1"))._tag).toBe("ChunkInvalid")
    expect(failure(wrapDataKey(generateDataKey(), [{ ...alice.publicKey, x25519: new Uint8Array(32) }], "b1"))._tag).toBe("ChunkInvalid")
  })

  it("opens with an unwrap written by hand from docs/BACKUPS.md's description", () => {
    const dataKey = generateDataKey()
    const backupId = "bk_1"
    const [w] = run(wrapDataKey(dataKey, [alice.publicKey], backupId))
    const ephX = decode(w!.ephemeralX25519)
    const ctM = decode(w!.mlkemCiphertext)
    const ssX = diffieHellman({ privateKey: privateKeyOf("x25519", alice.privateKey.x25519), publicKey: publicKeyOf("x25519", ephX) })
    const ssM = ml_kem768.decapsulate(ctM, ml_kem768.keygen(alice.privateKey.mlkem768Seed).secretKey)
    expect(ml_kem768.keygen(alice.privateKey.mlkem768Seed).secretKey).toEqual(mlkemSecretOf(alice.privateKey))
    const id = Buffer.from(backupId)
    const th = createHash("sha256")
      .update(Buffer.concat([Buffer.from("plexichat-backup-kem-v1\0"), Buffer.from([id.length]), id, ephX, alice.publicKey.x25519, ctM, alice.publicKey.mlkem768]))
      .digest()
    const okm = Buffer.from(hkdfSync("sha256", Buffer.concat([ssM, ssX]), Buffer.from("plexichat-backup-kem-v1"), th, 44))
    const sealed = decode(w!.wrappedKey)
    const decipher = createDecipheriv("aes-256-gcm", okm.subarray(0, 32), okm.subarray(32, 44))
    decipher.setAAD(th)
    decipher.setAuthTag(sealed.subarray(32))
    expect(Uint8Array.from(Buffer.concat([decipher.update(sealed.subarray(0, 32)), decipher.final()]))).toEqual(dataKey)
  })
})
