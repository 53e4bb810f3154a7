/**
 * A backup's data key wrapped for each recipient: the hybrid KEM's one-time key-encryption key seals the 32-byte
 * data key with AES-256-GCM (nonce from the KEM, additional data the KEM transcript's hash), so that only the holder
 * of both of a recipient's private keys can open it (docs/BACKUPS.md#cryptography).
 */
import { createCipheriv, createDecipheriv } from "node:crypto"
import { Effect, Schema } from "effect"
import { Base64UrlBytes, decode, encode } from "./Base64Url.ts"
import { ChunkInvalid, RecipientNotFound, WrappedKeyInvalid } from "./BackupCryptoErrors.ts"
import { type RecipientPrivateKey, type RecipientPublicKey, recipientFingerprint, recipientPublicOf } from "./BackupKeys.ts"
import { decapsulate, encapsulate } from "./HybridKem.ts"

/** One recipient's copy of the data key, as the manifest lists it. */
export const WrappedKey = Schema.Struct({
  /** The recipient's fingerprint (`recipientFingerprint`), 64 lower-case hex digits. */
  recipient: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/)),
  /** The ephemeral X25519 public key (32 bytes). */
  ephemeralX25519: Base64UrlBytes(32),
  /** The ML-KEM-768 ciphertext (1088 bytes). */
  mlkemCiphertext: Base64UrlBytes(1088),
  /** AES-256-GCM of the data key: ciphertext (32) || tag (16). */
  wrappedKey: Base64UrlBytes(48)
})
export type WrappedKey = typeof WrappedKey.Type

/** Wraps `dataKey` for every recipient (at least one), bound to `backupId`. */
export const wrapDataKey = (
  dataKey: Uint8Array,
  recipients: ReadonlyArray<RecipientPublicKey>,
  backupId: string
): Effect.Effect<ReadonlyArray<WrappedKey>, ChunkInvalid> =>
  dataKey.length !== 32 || recipients.length === 0
    ? Effect.fail(new ChunkInvalid({ reason: "a data key is 32 bytes, wrapped for at least one recipient" }))
    : Effect.try({
      try: () =>
        recipients.map((recipient) => {
          const kem = encapsulate(recipient, backupId)
          const cipher = createCipheriv("aes-256-gcm", kem.kek, kem.nonce, { authTagLength: 16 })
          cipher.setAAD(kem.transcriptHash)
          const sealed = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()])
          return {
            recipient: recipientFingerprint(recipient),
            ephemeralX25519: encode(kem.ephemeralX25519),
            mlkemCiphertext: encode(kem.mlkemCiphertext),
            wrappedKey: encode(sealed)
          }
        }),
      catch: (error) => new ChunkInvalid({ reason: `a recipient key is not usable: ${String(error)}` })
    })

/** Opens the copy addressed to `privateKey`'s pair: `RecipientNotFound` if none is, `WrappedKeyInvalid` if it does not open. */
export const unwrapDataKey = (
  wrapped: ReadonlyArray<WrappedKey>,
  privateKey: RecipientPrivateKey,
  backupId: string
): Effect.Effect<Uint8Array, RecipientNotFound | WrappedKeyInvalid> =>
  Effect.suspend((): Effect.Effect<Uint8Array, RecipientNotFound | WrappedKeyInvalid> => {
    const publicKey = recipientPublicOf(privateKey)
    const fingerprint = recipientFingerprint(publicKey)
    const entry = wrapped.find((w) => w.recipient === fingerprint)
    if (entry === undefined) return Effect.fail(new RecipientNotFound({ fingerprint }))
    return Effect.try({
      try: () => {
        const kem = decapsulate(privateKey, publicKey, backupId, decode(entry.ephemeralX25519), decode(entry.mlkemCiphertext))
        const sealed = decode(entry.wrappedKey)
        const decipher = createDecipheriv("aes-256-gcm", kem.kek, kem.nonce, { authTagLength: 16 })
        decipher.setAAD(kem.transcriptHash)
        decipher.setAuthTag(sealed.subarray(32))
        return Uint8Array.from(Buffer.concat([decipher.update(sealed.subarray(0, 32)), decipher.final()]))
      },
      catch: () => new WrappedKeyInvalid({ fingerprint, reason: "the wrapped key does not authenticate" })
    })
  })
