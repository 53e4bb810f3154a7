/**
 * The backup key pairs: an operator's recipient pair (X25519 + ML-KEM-768, to which data keys are wrapped) and the
 * cluster's Ed25519 manifest signing pair, as raw bytes, with their fingerprints.
 *
 * The ML-KEM-768 private key is held as its 64-byte FIPS 203 seed `d || z` (ML-KEM.KeyGen_internal's input), from
 * which the 2400-byte decapsulation key and the 1184-byte encapsulation key are derived again when needed.
 */
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto"
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js"
import { privateKeyOf, rawPrivate, rawPublic } from "./RawKeys.ts"

export interface RecipientPublicKey {
  /** The raw X25519 public key (32 bytes). */
  readonly x25519: Uint8Array
  /** The ML-KEM-768 encapsulation key (1184 bytes). */
  readonly mlkem768: Uint8Array
}

export interface RecipientPrivateKey {
  /** The raw X25519 private key (32 bytes). */
  readonly x25519: Uint8Array
  /** The ML-KEM-768 seed `d || z` (64 bytes). */
  readonly mlkem768Seed: Uint8Array
}

export interface SigningPublicKey {
  /** The raw Ed25519 public key (32 bytes). */
  readonly ed25519: Uint8Array
}

export interface SigningPrivateKey {
  /** The raw Ed25519 private key, RFC 8032's 32-byte seed. */
  readonly ed25519: Uint8Array
}

export const mlkemPublicLength = 1184
export const mlkemSeedLength = 64

export const generateRecipient = (): { readonly publicKey: RecipientPublicKey; readonly privateKey: RecipientPrivateKey } => {
  const x = generateKeyPairSync("x25519").privateKey
  const privateKey = { x25519: rawPrivate(x), mlkem768Seed: Uint8Array.from(randomBytes(mlkemSeedLength)) }
  return { publicKey: recipientPublicOf(privateKey), privateKey }
}

export const recipientPublicOf = (key: RecipientPrivateKey): RecipientPublicKey => ({
  x25519: rawPublic(privateKeyOf("x25519", key.x25519)),
  mlkem768: ml_kem768.keygen(key.mlkem768Seed).publicKey
})

/** The ML-KEM-768 decapsulation key (2400 bytes) of a recipient's seed. */
export const mlkemSecretOf = (key: RecipientPrivateKey): Uint8Array => ml_kem768.keygen(key.mlkem768Seed).secretKey

export const generateSigning = (): { readonly publicKey: SigningPublicKey; readonly privateKey: SigningPrivateKey } => {
  const ed = generateKeyPairSync("ed25519").privateKey
  return { publicKey: { ed25519: rawPublic(ed) }, privateKey: { ed25519: rawPrivate(ed) } }
}

export const signingPublicOf = (key: SigningPrivateKey): SigningPublicKey => ({ ed25519: rawPublic(privateKeyOf("ed25519", key.ed25519)) })

const fingerprint = (label: string, ...parts: Array<Uint8Array>) => {
  const hash = createHash("sha256").update(`${label}\0`, "ascii")
  for (const part of parts) hash.update(part)
  return hash.digest("hex")
}

/** Lower-case hex SHA-256 of `"plexichat.backup.recipient" 0x00 || x25519 (32) || mlkem768 (1184)`. */
export const recipientFingerprint = (key: RecipientPublicKey): string => fingerprint("plexichat.backup.recipient", key.x25519, key.mlkem768)

/** Lower-case hex SHA-256 of `"plexichat.backup.signing" 0x00 || ed25519 (32)`. */
export const signingFingerprint = (key: SigningPublicKey): string => fingerprint("plexichat.backup.signing", key.ed25519)
