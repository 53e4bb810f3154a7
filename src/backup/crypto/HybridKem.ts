/**
 * The hybrid X25519 + ML-KEM-768 KEM that derives a one-time key-encryption key for a recipient
 * (docs/BACKUPS.md#cryptography).
 *
 * - X25519 (RFC 7748) between a fresh ephemeral key and the recipient's X25519 key gives `ssX`;
 *   ML-KEM-768.Encaps (FIPS 203) to the recipient's encapsulation key gives `ssM` and its ciphertext `ctM`.
 * - The transcript is `"plexichat-backup-kem-v1" 0x00 || u8 len || backup id || ephX (32) || pkX (32) || ctM (1088) || pkM (1184)`:
 *   both ciphertexts (the ephemeral X25519 public key is X25519's ciphertext) and both public keys, so neither
 *   half can be swapped for another recipient's, and the backup id, so a wrapped key cannot be moved to another backup.
 * - `okm = HKDF-SHA-256(salt = "plexichat-backup-kem-v1", ikm = ssM || ssX, info = SHA-256(transcript), L = 44)`;
 *   the key-encryption key is `okm[0..32]`, the wrap nonce `okm[32..44]`. Both are used for one wrap only: every
 *   wrap has its own ephemeral key and encapsulation.
 */
import { createHash, diffieHellman, generateKeyPairSync, hkdfSync, timingSafeEqual } from "node:crypto"
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js"
import { mlkemSecretOf, type RecipientPrivateKey, type RecipientPublicKey } from "./BackupKeys.ts"
import { privateKeyOf, publicKeyOf, rawPrivate, rawPublic } from "./RawKeys.ts"

const label = "plexichat-backup-kem-v1"

export interface KemOutput {
  readonly kek: Buffer
  readonly nonce: Buffer
  /** SHA-256 of the transcript, also the key wrap's additional authenticated data. */
  readonly transcriptHash: Buffer
}

export interface Encapsulation extends KemOutput {
  readonly ephemeralX25519: Uint8Array
  readonly mlkemCiphertext: Uint8Array
}

const x25519 = (privateRaw: Uint8Array, publicRaw: Uint8Array) => {
  const shared = diffieHellman({ privateKey: privateKeyOf("x25519", privateRaw), publicKey: publicKeyOf("x25519", publicRaw) })
  // RFC 7748 §6.1: an all-zero result means a low-order public key; refuse it.
  if (timingSafeEqual(shared, Buffer.alloc(32))) throw new RangeError("X25519 gave the all-zero secret")
  return shared
}

const derive = (backupId: string, ssM: Uint8Array, ssX: Uint8Array, parts: ReadonlyArray<Uint8Array>): KemOutput => {
  const id = Buffer.from(backupId, "utf8")
  if (id.length === 0 || id.length > 255) throw new RangeError("a backup id is 1 to 255 bytes of UTF-8")
  const transcript = createHash("sha256").update(`${label}\0`, "ascii").update(Buffer.from([id.length])).update(id)
  for (const part of parts) transcript.update(part)
  const transcriptHash = transcript.digest()
  const okm = Buffer.from(hkdfSync("sha256", Buffer.concat([ssM, ssX]), Buffer.from(label, "ascii"), transcriptHash, 44))
  return { kek: okm.subarray(0, 32), nonce: okm.subarray(32, 44), transcriptHash }
}

/** A fresh encapsulation to `recipient` for `backupId` (throws on keys of the wrong size). */
export const encapsulate = (recipient: RecipientPublicKey, backupId: string): Encapsulation => {
  const ephemeral = generateKeyPairSync("x25519").privateKey
  const ephemeralX25519 = rawPublic(ephemeral)
  const ssX = x25519(rawPrivate(ephemeral), recipient.x25519)
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(recipient.mlkem768)
  const out = derive(backupId, sharedSecret, ssX, [ephemeralX25519, recipient.x25519, cipherText, recipient.mlkem768])
  return { ...out, ephemeralX25519, mlkemCiphertext: cipherText }
}

/**
 * The recipient's side. ML-KEM decapsulation never fails on a changed ciphertext (FIPS 203 implicit rejection
 * yields an unrelated secret): a changed input surfaces as the key wrap's authentication failure.
 */
export const decapsulate = (
  privateKey: RecipientPrivateKey,
  publicKey: RecipientPublicKey,
  backupId: string,
  ephemeralX25519: Uint8Array,
  mlkemCiphertext: Uint8Array
): KemOutput => {
  const ssX = x25519(privateKey.x25519, ephemeralX25519)
  const ssM = ml_kem768.decapsulate(mlkemCiphertext, mlkemSecretOf(privateKey))
  return derive(backupId, ssM, ssX, [ephemeralX25519, publicKey.x25519, mlkemCiphertext, publicKey.mlkem768])
}
