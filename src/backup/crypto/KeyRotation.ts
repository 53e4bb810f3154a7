/**
 * Key rotation of one signed manifest (docs/BACKUPS.md#rotating-keys). The wrapped data keys are part of the signed
 * manifest (`recipients` in Manifest.ts, under the Ed25519 signature of ManifestSigning.ts), so a re-wrap is always
 * followed by a new signature:
 *
 * - `rewrapWith`: verify the manifest under the signing public key, open the data key with the old recipient's
 *   private key, wrap it to the new recipient's public key (`wrapDataKey`: the hybrid X25519 + ML-KEM-768 wrap a new
 *   backup gets, bound to the backup id), drop the old recipient's copy unless `keepOld`, and sign again;
 * - `resignWith`: verify the manifest under the old signing public key and sign the same manifest with the new key.
 *
 * Nothing is signed that did not verify first, so a rotation cannot launder a changed manifest. The data key and the
 * shards stay as they are: nothing is re-encrypted. No error carries key material.
 */
import { Effect } from "effect"
import type { ChunkInvalid, ManifestMalformed, ManifestSignatureInvalid, MerkleRootMismatch, RecipientNotFound, WrappedKeyInvalid } from "./BackupCryptoErrors.ts"
import {
  type RecipientPrivateKey,
  type RecipientPublicKey,
  recipientFingerprint,
  recipientPublicOf,
  type SigningPrivateKey,
  type SigningPublicKey,
  signingFingerprint,
  signingPublicOf
} from "./BackupKeys.ts"
import { unwrapDataKey, type WrappedKey, wrapDataKey } from "./KeyWrap.ts"
import { manifestFailureReason, signerOf, signManifest, verifyManifest } from "./ManifestSigning.ts"

/** What a rotation made of one manifest: a new signed file, or the reason it is left as it is. */
export type Rotated =
  | { readonly _tag: "Changed"; readonly backupId: string; readonly text: string }
  | { readonly _tag: "Unchanged"; readonly backupId: string; readonly reason: string }

export type RotationError = ManifestMalformed | ManifestSignatureInvalid | MerkleRootMismatch | RecipientNotFound | WrappedKeyInvalid | ChunkInvalid

/** One manifest's rotation: its signed file in, the outcome out. */
export type Rotation = (text: string) => Effect.Effect<Rotated, RotationError>

/** A rotation's failure in one line (no key material: fingerprints at most). */
export const rotationFailureReason = (e: RotationError): string => {
  switch (e._tag) {
    case "RecipientNotFound":
      return `RecipientNotFound: the data key is not wrapped for recipient ${e.fingerprint}`
    case "WrappedKeyInvalid":
      return `WrappedKeyInvalid: the data key wrapped for recipient ${e.fingerprint} does not open with the old private key (${e.reason})`
    case "ChunkInvalid":
      return `ChunkInvalid: ${e.reason}`
    default:
      return manifestFailureReason(e)
  }
}

export interface RecipientRotation {
  /** The old recipient's private key: it opens the data key. */
  readonly from: RecipientPrivateKey
  /** The new recipient's public key: the data key is wrapped to it. */
  readonly to: RecipientPublicKey
  /** Keep the old recipient's wrapped copy next to the new one. */
  readonly keepOld: boolean
  /** What every manifest must verify under before it is changed. */
  readonly verifyWith: SigningPublicKey
  /** What the changed manifests are signed with (the pair of `verifyWith`). */
  readonly signWith: SigningPrivateKey
}

/** Re-wraps a manifest's data key from one recipient to another; a manifest not wrapped to `from` is unchanged. */
export const rewrapWith = (rotation: RecipientRotation): Rotation => {
  const from = recipientFingerprint(recipientPublicOf(rotation.from))
  const to = recipientFingerprint(rotation.to)
  return (text) =>
    Effect.gen(function*() {
      const manifest = yield* verifyManifest(text, rotation.verifyWith)
      const backupId = manifest.backupId
      const has = (fingerprint: string) => manifest.recipients.some((w) => w.recipient === fingerprint)
      if (!has(from)) return { _tag: "Unchanged", backupId, reason: `not wrapped to recipient ${from}` } as const
      if (rotation.keepOld && has(to)) return { _tag: "Unchanged", backupId, reason: `already wrapped to recipient ${to}` } as const
      const dataKey = yield* unwrapDataKey(manifest.recipients, rotation.from, backupId)
      const fresh = yield* (has(to) ? Effect.succeed<ReadonlyArray<WrappedKey>>([]) : wrapDataKey(dataKey, [rotation.to], backupId)).pipe(
        Effect.ensuring(Effect.sync(() => dataKey.fill(0)))
      )
      // The new copy takes the old one's place in the list (or follows the others with `keepOld`).
      const kept = manifest.recipients.flatMap((w) => (w.recipient === from && !rotation.keepOld ? fresh : [w]))
      const recipients = rotation.keepOld ? [...kept, ...fresh] : kept
      const signed = yield* signManifest({ ...manifest, recipients: recipients as [WrappedKey, ...Array<WrappedKey>] }, rotation.signWith)
      return { _tag: "Changed", backupId, text: signed } as const
    })
}

export interface SigningRotation {
  /** The old signing public key: every manifest must verify under it (or already under the new one). */
  readonly from: SigningPublicKey
  /** The new signing private key. */
  readonly to: SigningPrivateKey
}

/** Signs a manifest again with the new key; one already signed by the new key (and verifying under it) is unchanged. */
export const resignWith = (rotation: SigningRotation): Rotation => {
  const toPublic = signingPublicOf(rotation.to)
  const to = signingFingerprint(toPublic)
  return (text) =>
    Effect.gen(function*() {
      if ((yield* signerOf(text)) === to) {
        const manifest = yield* verifyManifest(text, toPublic)
        return { _tag: "Unchanged", backupId: manifest.backupId, reason: `already signed by the new key ${to}` } as const
      }
      const manifest = yield* verifyManifest(text, rotation.from)
      return { _tag: "Changed", backupId: manifest.backupId, text: yield* signManifest(manifest, rotation.to) } as const
    })
}
