/**
 * A backup's manifest and its signed envelope (docs/BACKUPS.md#cryptography): what a restore needs to fetch, check
 * and open every shard. `details` is left to the backup job (kind, parent, high-water marks); it is signed with the
 * rest and must be canonical JSON.
 */
import { Schema } from "effect"
import { Base64UrlBytes } from "./Base64Url.ts"
import { WrappedKey } from "./KeyWrap.ts"

const Hex32 = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))

export const Manifest = Schema.Struct({
  format: Schema.Literal("plexichat.backup.manifest"),
  version: Schema.Literal(1),
  backupId: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)),
  /** Milliseconds since the epoch. */
  createdAt: Schema.Int.pipe(Schema.nonNegative()),
  chunkSize: Schema.Literal(1048576),
  /** SHA-256 (hex) of each sealed chunk, in chunk order: shard i is chunk i; the last one is the backup's last chunk (an empty backup has one). */
  shards: Schema.NonEmptyArray(Hex32),
  /** `merkleRootHex(shards)`. */
  merkleRoot: Hex32,
  /** The data key, wrapped for each recipient (at least one). */
  recipients: Schema.NonEmptyArray(WrappedKey),
  details: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
export type Manifest = typeof Manifest.Type

export const SignedManifest = Schema.Struct({
  manifest: Manifest,
  signature: Schema.Struct({
    /** The signing key's fingerprint (`signingFingerprint`). */
    signer: Hex32,
    /** Ed25519 over `"plexichat-backup-manifest-v1" 0x00 || canonicalJson(manifest)`. */
    ed25519: Base64UrlBytes(64)
  })
})
export type SignedManifest = typeof SignedManifest.Type
