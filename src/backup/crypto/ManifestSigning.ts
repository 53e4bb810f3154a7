/**
 * Signing and verifying manifests with the cluster's Ed25519 key. The signed file is `canonicalJson` of
 * `{manifest, signature: {signer, ed25519}}` and one `\n`; verification refuses anything not byte for byte in
 * that form, then the signer, the signature and the Merkle root, in that order.
 */
import { sign, verify } from "node:crypto"
import { Effect, Schema } from "effect"
import { decode, encode } from "./Base64Url.ts"
import { ManifestMalformed, ManifestSignatureInvalid, MerkleRootMismatch } from "./BackupCryptoErrors.ts"
import { type SigningPrivateKey, type SigningPublicKey, signingFingerprint, signingPublicOf } from "./BackupKeys.ts"
import { canonicalJson } from "./CanonicalJson.ts"
import { Manifest, SignedManifest } from "./Manifest.ts"
import { merkleRootHex } from "./MerkleTree.ts"
import { privateKeyOf, publicKeyOf } from "./RawKeys.ts"

const signingInput = (manifest: Manifest) => Buffer.from(`plexichat-backup-manifest-v1\0${canonicalJson(manifest)}`, "utf8")

const malformed = (reason: string) => new ManifestMalformed({ reason })

/** The signed manifest file's text; fails if `manifest` is not a valid manifest in canonical JSON or its root is not its shards'. */
export const signManifest = (manifest: Manifest, key: SigningPrivateKey): Effect.Effect<string, ManifestMalformed | MerkleRootMismatch> =>
  Effect.gen(function*() {
    yield* Schema.decodeUnknown(Manifest, { onExcessProperty: "error" })(manifest).pipe(
      Effect.mapError((e) => malformed(`not a version 1 manifest: ${e.message.slice(0, 300)}`))
    )
    const actual = merkleRootHex(manifest.shards)
    if (actual !== manifest.merkleRoot) return yield* Effect.fail(new MerkleRootMismatch({ expected: manifest.merkleRoot, actual }))
    const input = yield* Effect.try({ try: () => signingInput(manifest), catch: (e) => malformed(String(e)) })
    const signature = sign(null, input, privateKeyOf("ed25519", key.ed25519))
    const signer = signingFingerprint(signingPublicOf(key))
    return `${canonicalJson({ manifest, signature: { signer, ed25519: encode(signature) } })}\n`
  })

const parse = (text: string) =>
  Effect.gen(function*() {
    if (!text.endsWith("\n")) return yield* Effect.fail(malformed("truncated: no final newline"))
    const json = yield* Effect.try({ try: (): unknown => JSON.parse(text), catch: () => malformed("not JSON (truncated?)") })
    const signed = yield* Schema.decodeUnknown(SignedManifest, { onExcessProperty: "error" })(json).pipe(
      Effect.mapError((e) => malformed(`not a version 1 signed manifest: ${e.message.slice(0, 300)}`))
    )
    const canonical = yield* Effect.try({ try: () => `${canonicalJson(json)}\n`, catch: (e) => malformed(String(e)) })
    if (canonical !== text) return yield* Effect.fail(malformed("not in canonical form"))
    return signed
  })

/** The signing key's fingerprint a signed file names (not yet checked: `verifyManifest` does that). */
export const signerOf = (text: string): Effect.Effect<string, ManifestMalformed> => Effect.map(parse(text), (signed) => signed.signature.signer)

/** A verification failure in one line, as errors and reports show it. */
export const manifestFailureReason = (e: ManifestMalformed | ManifestSignatureInvalid | MerkleRootMismatch) =>
  `${e._tag}: ${e._tag === "MerkleRootMismatch" ? `root ${e.actual}, manifest says ${e.expected}` : e.reason}`

/** The manifest of a signed file, if `key` signed it and its Merkle root is its shards'. */
export const verifyManifest = (
  text: string,
  key: SigningPublicKey
): Effect.Effect<Manifest, ManifestMalformed | ManifestSignatureInvalid | MerkleRootMismatch> =>
  Effect.gen(function*() {
    const signed = yield* parse(text)
    const expected = signingFingerprint(key)
    if (signed.signature.signer !== expected) {
      return yield* Effect.fail(new ManifestSignatureInvalid({ reason: `signed by key ${signed.signature.signer}, not ${expected}` }))
    }
    if (!verify(null, signingInput(signed.manifest), publicKeyOf("ed25519", key.ed25519), decode(signed.signature.ed25519))) {
      return yield* Effect.fail(new ManifestSignatureInvalid({ reason: "the signature does not verify: the manifest changed after signing" }))
    }
    const actual = merkleRootHex(signed.manifest.shards)
    if (actual !== signed.manifest.merkleRoot) return yield* Effect.fail(new MerkleRootMismatch({ expected: signed.manifest.merkleRoot, actual }))
    return signed.manifest
  })
