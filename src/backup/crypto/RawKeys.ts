/**
 * X25519 and Ed25519 keys as raw 32-byte strings (RFC 7748, RFC 8032) and
 * back to `node:crypto` KeyObjects, through their fixed PKCS#8 / SPKI DER
 * prefixes (RFC 8410).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto"

export type Curve = "x25519" | "ed25519"

// RFC 8410: the OIDs 1.3.101.110 (X25519) and 1.3.101.112 (Ed25519), wrapped around a 32-byte key.
const pkcs8Prefix: Record<Curve, string> = { x25519: "302e020100300506032b656e04220420", ed25519: "302e020100300506032b657004220420" }
const spkiPrefix: Record<Curve, string> = { x25519: "302a300506032b656e032100", ed25519: "302a300506032b6570032100" }

const checked = (bytes: Uint8Array) => {
  if (bytes.length !== 32) throw new RangeError(`a raw key is 32 bytes, not ${bytes.length}`)
  return bytes
}

export const privateKeyOf = (curve: Curve, raw: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([Buffer.from(pkcs8Prefix[curve], "hex"), checked(raw)]), format: "der", type: "pkcs8" })

export const publicKeyOf = (curve: Curve, raw: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.concat([Buffer.from(spkiPrefix[curve], "hex"), checked(raw)]), format: "der", type: "spki" })

/** The raw 32 bytes of an X25519 or Ed25519 private key. */
export const rawPrivate = (key: KeyObject): Uint8Array => Uint8Array.from(key.export({ format: "der", type: "pkcs8" }).subarray(16))

/** The raw 32 bytes of an X25519 or Ed25519 public key (of a public or a private KeyObject). */
export const rawPublic = (key: KeyObject): Uint8Array =>
  Uint8Array.from((key.type === "private" ? createPublicKey(key) : key).export({ format: "der", type: "spki" }).subarray(12))
