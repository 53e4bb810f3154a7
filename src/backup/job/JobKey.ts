/**
 * The durable job's secrets at rest (docs/BACKUPS.md#the-backup-job). A job that resumes on another node needs its
 * backup's data key, which is never stored in plain form: the job state holds it sealed with AES-256-GCM under
 *
 *   jobKey = HKDF-SHA-256(ikm = the cluster's Ed25519 signing private key (32 bytes),
 *                         salt = "plexichat-backup-job-key-v1", info = backupId, L = 32)
 *
 * (nonce 12 random bytes, additional data `"plexichat-backup-job-key-v1" 0x00 || backupId`), stored as
 * `nonce || ciphertext (32) || tag (16)`. Every node holds the signing key (PLEXI_BACKUP_SIGNING_KEY), so any node
 * can resume; whoever holds the signing key and reads the job row while the job runs can open the data key.
 *
 * A stored chunk is remembered by `HMAC-SHA-256(macKey, plaintext)`, `macKey = HKDF-SHA-256(ikm = dataKey,
 * salt = "plexichat-backup-chunk-mac-v1", info = backupId, L = 32)`: a keyed hash, so that the job state reveals
 * nothing about the plaintext to a reader without the data key.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto"
import { Effect } from "effect"
import { BackupFailed } from "../../../domain/Backup.ts"
import type { SigningPrivateKey } from "../crypto/BackupKeys.ts"

const jobLabel = "plexichat-backup-job-key-v1"
const macLabel = "plexichat-backup-chunk-mac-v1"

const derive = (ikm: Uint8Array, salt: string, backupId: string) =>
  Buffer.from(hkdfSync("sha256", ikm, Buffer.from(salt, "ascii"), Buffer.from(backupId, "utf8"), 32))

const aadOf = (backupId: string) => Buffer.concat([Buffer.from(`${jobLabel}\0`, "ascii"), Buffer.from(backupId, "utf8")])

/** Seals the data key for the job state. */
export const sealDataKey = (signing: SigningPrivateKey, backupId: string, dataKey: Uint8Array): Uint8Array => {
  const nonce = randomBytes(12)
  const cipher = createCipheriv("aes-256-gcm", derive(signing.ed25519, jobLabel, backupId), nonce, { authTagLength: 16 })
  cipher.setAAD(aadOf(backupId))
  return Uint8Array.from(Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]))
}

/** Opens the job state's sealed data key; another signing key or a changed record fails. */
export const openDataKey = (signing: SigningPrivateKey, backupId: string, sealed: Uint8Array) =>
  Effect.try({
    try: () => {
      const bytes = Buffer.from(sealed)
      const decipher = createDecipheriv("aes-256-gcm", derive(signing.ed25519, jobLabel, backupId), bytes.subarray(0, 12), { authTagLength: 16 })
      decipher.setAAD(aadOf(backupId))
      decipher.setAuthTag(bytes.subarray(bytes.length - 16))
      return Uint8Array.from(Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]))
    },
    catch: () =>
      new BackupFailed({ backupId, reason: "resume: the job's sealed data key does not open with this node's signing key (PLEXI_BACKUP_SIGNING_KEY differs between nodes?)" })
  })

/** The keyed hash of one chunk's plaintext, hex. */
export const chunkMacOf = (dataKey: Uint8Array, backupId: string) => {
  const key = derive(dataKey, macLabel, backupId)
  return (plaintext: Uint8Array) => createHmac("sha256", key).update(plaintext).digest("hex")
}
