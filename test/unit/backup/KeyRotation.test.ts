/**
 * Key rotation of one signed manifest with real keys (KeyRotation.ts): a re-wrap moves the data key from the old
 * recipient to the new one (or adds it, with keepOld) and signs again; a re-sign moves the signature to the new key;
 * neither changes a manifest it skips, and neither signs a manifest that does not verify first.
 */
import { createHash } from "node:crypto"
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { generateRecipient, generateSigning, type RecipientPublicKey, recipientFingerprint } from "../../../src/backup/crypto/BackupKeys.ts"
import { canonicalJson } from "../../../src/backup/crypto/CanonicalJson.ts"
import { generateDataKey } from "../../../src/backup/crypto/ChunkCipher.ts"
import { resignWith, rewrapWith, type Rotated } from "../../../src/backup/crypto/KeyRotation.ts"
import { unwrapDataKey, type WrappedKey, wrapDataKey } from "../../../src/backup/crypto/KeyWrap.ts"
import type { Manifest } from "../../../src/backup/crypto/Manifest.ts"
import { signManifest, verifyManifest } from "../../../src/backup/crypto/ManifestSigning.ts"
import { merkleRootHex } from "../../../src/backup/crypto/MerkleTree.ts"
import { failure, run } from "./Run.ts"

const [alice, bob, carol] = [generateRecipient(), generateRecipient(), generateRecipient()]
const [cluster, next] = [generateSigning(), generateSigning()]
const backupId = "bk_0000000000rotationtest0000"
const shards: [string, ...Array<string>] = [createHash("sha256").update("chunk 0").digest("hex"), createHash("sha256").update("chunk 1").digest("hex")]

/** A manifest whose data key is wrapped to `recipients`, signed by `signer` (the cluster key by default). */
const signedFor = (recipients: ReadonlyArray<RecipientPublicKey>, signer = cluster.privateKey) => {
  const dataKey = generateDataKey()
  const wrapped = run(wrapDataKey(dataKey, recipients, backupId)) as [WrappedKey, ...Array<WrappedKey>]
  const manifest: Manifest = {
    format: "plexichat.backup.manifest",
    version: 1,
    backupId,
    createdAt: 1_764_700_000_000,
    chunkSize: 1048576,
    shards,
    merkleRoot: merkleRootHex(shards),
    recipients: wrapped,
    details: { kind: "full", parent: null }
  }
  return { dataKey, text: run(signManifest(manifest, signer)) }
}

const changed = (rotated: Rotated) => {
  if (rotated._tag !== "Changed") throw new Error(`expected a change, got: ${rotated.reason}`)
  return rotated.text
}

const aliceToBob = (keepOld = false) =>
  rewrapWith({ from: alice.privateKey, to: bob.publicKey, keepOld, verifyWith: cluster.publicKey, signWith: cluster.privateKey })

const fingerprints = (text: string) => run(verifyManifest(text, cluster.publicKey)).recipients.map((w) => w.recipient)
const fp = (key: RecipientPublicKey) => recipientFingerprint(key)

describe("re-wrapping a manifest's data key", () => {
  it("wraps the same data key to the new recipient in the old one's place, signs again, and the old key no longer opens it", () => {
    const { dataKey, text } = signedFor([carol.publicKey, alice.publicKey])
    const rotated = changed(run(aliceToBob()(text)))
    expect(fingerprints(rotated)).toEqual([fp(carol.publicKey), fp(bob.publicKey)])
    const manifest = run(verifyManifest(rotated, cluster.publicKey))
    expect(run(unwrapDataKey(manifest.recipients, bob.privateKey, backupId))).toEqual(dataKey)
    expect(run(unwrapDataKey(manifest.recipients, carol.privateKey, backupId))).toEqual(dataKey)
    expect(failure(unwrapDataKey(manifest.recipients, alice.privateKey, backupId))._tag).toBe("RecipientNotFound")
    // Everything but the wrapped keys and the signature is as it was.
    const before = run(verifyManifest(text, cluster.publicKey))
    expect({ ...manifest, recipients: [] }).toEqual({ ...before, recipients: [] })
  })

  it("with keepOld adds the new recipient after the others and both open the data key; a second run changes nothing", () => {
    const { dataKey, text } = signedFor([alice.publicKey])
    const rotated = changed(run(aliceToBob(true)(text)))
    expect(fingerprints(rotated)).toEqual([fp(alice.publicKey), fp(bob.publicKey)])
    const manifest = run(verifyManifest(rotated, cluster.publicKey))
    for (const key of [alice.privateKey, bob.privateKey]) expect(run(unwrapDataKey(manifest.recipients, key, backupId))).toEqual(dataKey)
    expect(run(aliceToBob(true)(rotated))).toEqual({ _tag: "Unchanged", backupId, reason: `already wrapped to recipient ${fp(bob.publicKey)}` })
  })

  it("drops the old copy without a second new one when the manifest is already wrapped to both", () => {
    const { dataKey, text } = signedFor([alice.publicKey, bob.publicKey])
    const rotated = changed(run(aliceToBob()(text)))
    expect(fingerprints(rotated)).toEqual([fp(bob.publicKey)])
    expect(run(unwrapDataKey(run(verifyManifest(rotated, cluster.publicKey)).recipients, bob.privateKey, backupId))).toEqual(dataKey)
  })

  it("leaves a manifest not wrapped to the old recipient as it is", () => {
    const { text } = signedFor([carol.publicKey])
    expect(run(aliceToBob()(text))).toEqual({ _tag: "Unchanged", backupId, reason: `not wrapped to recipient ${fp(alice.publicKey)}` })
  })

  it("refuses a manifest changed after signing (a wrapped key swapped in), signing nothing", () => {
    const { text } = signedFor([alice.publicKey])
    const json = JSON.parse(text)
    const [other] = run(wrapDataKey(generateDataKey(), [alice.publicKey], backupId))
    const tampered = `${canonicalJson({ ...json, manifest: { ...json.manifest, recipients: [other] } })}\n`
    expect(failure(aliceToBob()(tampered))).toMatchObject({ _tag: "ManifestSignatureInvalid", reason: expect.stringContaining("changed after signing") })
  })

  it("refuses a manifest signed by another key than the one it must verify under", () => {
    const { text } = signedFor([alice.publicKey], next.privateKey)
    expect(failure(aliceToBob()(text))).toMatchObject({ _tag: "ManifestSignatureInvalid", reason: expect.stringContaining("signed by key") })
  })

  it("refuses a copy addressed to the old recipient that its private key does not open", () => {
    // Signed by the cluster key, but the copy under Alice's fingerprint was wrapped to Carol.
    const [carolsCopy] = run(wrapDataKey(generateDataKey(), [carol.publicKey], backupId))
    const manifest = run(verifyManifest(signedFor([alice.publicKey]).text, cluster.publicKey))
    const text = run(signManifest({ ...manifest, recipients: [{ ...carolsCopy!, recipient: fp(alice.publicKey) }] }, cluster.privateKey))
    expect(failure(aliceToBob()(text))).toMatchObject({ _tag: "WrappedKeyInvalid", fingerprint: fp(alice.publicKey) })
  })

  test.prop([fc.boolean(), fc.integer({ min: 0, max: 2 }), fc.boolean()], { numRuns: 12 })(
    "keeps the data key and every other recipient, whatever the list and keepOld",
    (keepOld, others, aliceFirst) => {
      const rest = [carol.publicKey, generateRecipient().publicKey].slice(0, others)
      const { dataKey, text } = signedFor(aliceFirst ? [alice.publicKey, ...rest] : [...rest, alice.publicKey])
      const manifest = run(verifyManifest(changed(run(aliceToBob(keepOld)(text))), cluster.publicKey))
      const expected = [...rest.map(fp), fp(bob.publicKey), ...(keepOld ? [fp(alice.publicKey)] : [])].sort()
      expect(manifest.recipients.map((w) => w.recipient).sort()).toEqual(expected)
      expect(run(unwrapDataKey(manifest.recipients, bob.privateKey, backupId))).toEqual(dataKey)
    }
  )
})

describe("re-signing a manifest", () => {
  const rotate = resignWith({ from: cluster.publicKey, to: next.privateKey })

  it("signs what verified under the old key with the new one: it verifies under the new key and no longer under the old", () => {
    const { text } = signedFor([alice.publicKey])
    const rotated = changed(run(rotate(text)))
    expect(run(verifyManifest(rotated, next.publicKey))).toEqual(run(verifyManifest(text, cluster.publicKey)))
    expect(failure(verifyManifest(rotated, cluster.publicKey))).toMatchObject({ _tag: "ManifestSignatureInvalid", reason: expect.stringContaining("signed by key") })
    expect(run(rotate(rotated))).toMatchObject({ _tag: "Unchanged", reason: expect.stringContaining("already signed by the new key") })
  })

  it("refuses a manifest changed after signing, and one signed by neither key", () => {
    const { text } = signedFor([alice.publicKey])
    const json = JSON.parse(text)
    const tampered = `${canonicalJson({ ...json, manifest: { ...json.manifest, createdAt: 1 } })}\n`
    expect(failure(rotate(tampered))._tag).toBe("ManifestSignatureInvalid")
    expect(failure(rotate(signedFor([alice.publicKey], generateSigning().privateKey).text))._tag).toBe("ManifestSignatureInvalid")
    expect(failure(rotate(text.trimEnd()))._tag).toBe("ManifestMalformed")
  })

  it("refuses a manifest that names the new key as its signer but was changed after it signed", () => {
    const rotated = changed(run(rotate(signedFor([alice.publicKey]).text)))
    const json = JSON.parse(rotated)
    const tampered = `${canonicalJson({ ...json, manifest: { ...json.manifest, createdAt: 2 } })}\n`
    expect(failure(rotate(tampered))).toMatchObject({ _tag: "ManifestSignatureInvalid", reason: expect.stringContaining("changed after signing") })
  })
})
