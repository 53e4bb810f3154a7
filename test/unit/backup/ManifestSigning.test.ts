/**
 * Signed manifests: a manifest signed by the cluster key verifies; a changed field, another signing key, a
 * truncated or re-formatted file and a Merkle root that is not its shards' are refused with typed failures.
 */
import { createHash, sign } from "node:crypto"
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { encode } from "../../../src/backup/crypto/Base64Url.ts"
import { generateRecipient, generateSigning, signingFingerprint } from "../../../src/backup/crypto/BackupKeys.ts"
import { canonicalJson } from "../../../src/backup/crypto/CanonicalJson.ts"
import { generateDataKey } from "../../../src/backup/crypto/ChunkCipher.ts"
import { wrapDataKey } from "../../../src/backup/crypto/KeyWrap.ts"
import type { Manifest } from "../../../src/backup/crypto/Manifest.ts"
import { signManifest, verifyManifest } from "../../../src/backup/crypto/ManifestSigning.ts"
import { merkleRootHex } from "../../../src/backup/crypto/MerkleTree.ts"
import { privateKeyOf } from "../../../src/backup/crypto/RawKeys.ts"
import { failure, run } from "./Run.ts"

const cluster = generateSigning()
const other = generateSigning()
const [recipient] = run(wrapDataKey(generateDataKey(), [generateRecipient().publicKey], "bk_1"))

const manifestOf = (shards: readonly [string, ...Array<string>], details: Record<string, unknown> = { kind: "full", parent: null }): Manifest => ({
  format: "plexichat.backup.manifest",
  version: 1,
  backupId: "bk_1",
  createdAt: 1_764_700_000_000,
  chunkSize: 1048576,
  shards,
  merkleRoot: merkleRootHex(shards),
  recipients: [recipient!],
  details
})
const shardHashes = (n: number): [string, ...Array<string>] => {
  const [first, ...rest] = Array.from({ length: Math.max(1, n) }, (_, i) => createHash("sha256").update(`chunk ${i}`).digest("hex"))
  return [first!, ...rest]
}
const details = fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.maxSafeInteger(), fc.boolean(), fc.constant(null)), { maxKeys: 5 })

describe("manifest signing", () => {
  test.prop([fc.integer({ min: 1, max: 20 }), details], { numRuns: 30 })("verifies what the cluster key signed", (n, extra) => {
    const manifest = manifestOf(shardHashes(n), extra)
    expect(run(verifyManifest(run(signManifest(manifest, cluster.privateKey)), cluster.publicKey))).toEqual(manifest)
  })

  it("refuses a manifest changed after signing (a shard hash with its root, a time, the details)", () => {
    const signed = run(signManifest(manifestOf(shardHashes(3)), cluster.privateKey))
    const json = JSON.parse(signed)
    const shards: Array<string> = json.manifest.shards.map((s: string, i: number) => (i === 1 ? "0".repeat(64) : s))
    for (const edit of [{ shards, merkleRoot: merkleRootHex(shards) }, { createdAt: 1 }, { details: { kind: "incremental", parent: null } }]) {
      const text = `${canonicalJson({ ...json, manifest: { ...json.manifest, ...edit } })}\n`
      expect(failure(verifyManifest(text, cluster.publicKey))._tag).toBe("ManifestSignatureInvalid")
    }
  })

  it("refuses a manifest signed by another key, whether or not it names the expected signer", () => {
    const signed = run(signManifest(manifestOf(shardHashes(2)), other.privateKey))
    expect(failure(verifyManifest(signed, cluster.publicKey))).toMatchObject({ _tag: "ManifestSignatureInvalid", reason: expect.stringContaining("signed by key") })
    const json = JSON.parse(signed)
    const forged = `${canonicalJson({ ...json, signature: { ...json.signature, signer: signingFingerprint(cluster.publicKey) } })}\n`
    expect(failure(verifyManifest(forged, cluster.publicKey))).toMatchObject({ _tag: "ManifestSignatureInvalid", reason: expect.stringContaining("does not verify") })
  })

  test.prop([fc.nat()], { numRuns: 40 })("refuses a truncated manifest as malformed", (cut) => {
    const signed = run(signManifest(manifestOf(shardHashes(4)), cluster.privateKey))
    expect(failure(verifyManifest(signed.slice(0, cut % signed.length), cluster.publicKey))._tag).toBe("ManifestMalformed")
  })

  it("refuses a manifest not in canonical form, or with fields it does not define", () => {
    const signed = run(signManifest(manifestOf(shardHashes(1)), cluster.privateKey))
    const json = JSON.parse(signed)
    for (const text of [`${JSON.stringify(json, null, 2)}\n`, `${canonicalJson({ ...json, extra: 1 })}\n`, `${canonicalJson({ ...json, manifest: { ...json.manifest, version: 2 } })}\n`]) {
      expect(failure(verifyManifest(text, cluster.publicKey))._tag).toBe("ManifestMalformed")
    }
  })

  it("will not sign a manifest outside the format (no shards, upper-case hashes, unknown fields)", () => {
    const good = manifestOf(shardHashes(2))
    for (const bad of [{ ...good, shards: [], merkleRoot: merkleRootHex([]) }, { ...good, shards: good.shards.map((h) => h.toUpperCase()) }, { ...good, extra: 1 }]) {
      // Through JSON, as a manifest built by a caller that skipped the types would arrive.
      expect(failure(signManifest(JSON.parse(JSON.stringify(bad)), cluster.privateKey))._tag).toBe("ManifestMalformed")
    }
  })

  it("refuses a signed manifest whose Merkle root is not its shards', and will not sign one", () => {
    const manifest = { ...manifestOf(shardHashes(3)), merkleRoot: merkleRootHex(shardHashes(2)) }
    expect(failure(signManifest(manifest, cluster.privateKey))._tag).toBe("MerkleRootMismatch")
    const signature = sign(null, Buffer.from(`plexichat-backup-manifest-v1\0${canonicalJson(manifest)}`), privateKeyOf("ed25519", cluster.privateKey.ed25519))
    const text = `${canonicalJson({ manifest, signature: { signer: signingFingerprint(cluster.publicKey), ed25519: encode(signature) } })}\n`
    expect(failure(verifyManifest(text, cluster.publicKey))._tag).toBe("MerkleRootMismatch")
  })

  it("writes canonical JSON as RFC 8785 does for these values, and refuses other numbers", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "é\n\u2028"], "": -0, "\u00e9": {} })).toBe('{"":0,"a":[true,null,"é\\n\u2028"],"b":1,"é":{}}')
    expect(() => canonicalJson({ x: 1.5 })).toThrow(TypeError)
    expect(() => canonicalJson("\ud800")).toThrow(TypeError)
  })
})
