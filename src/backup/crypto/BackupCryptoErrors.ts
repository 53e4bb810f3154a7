/**
 * The backup crypto layer's failures. They stay in the process that decrypts
 * or verifies (the restore and scrub steps map them to their own errors), so
 * they are `Data.TaggedError`s. None of them carries key material.
 */
import { Data } from "effect"

/** A chunk, a backup id or a data key outside the format (wrong size, index out of range). */
export class ChunkInvalid extends Data.TaggedError("ChunkInvalid")<{ readonly reason: string }> {}

/** A sealed chunk failed GCM authentication: flipped bits, another key, backup, index or position. */
export class ChunkTampered extends Data.TaggedError("ChunkTampered")<{ readonly backupId: string; readonly index: number }> {}

/** A key file or key bytes that are not in the documented format. */
export class KeyInvalid extends Data.TaggedError("KeyInvalid")<{ readonly reason: string }> {}

/** No wrapped data key in the manifest is addressed to this recipient's key. */
export class RecipientNotFound extends Data.TaggedError("RecipientNotFound")<{ readonly fingerprint: string }> {}

/** The wrapped data key addressed to this recipient does not open: tampered, or the private key does not match. */
export class WrappedKeyInvalid extends Data.TaggedError("WrappedKeyInvalid")<{ readonly fingerprint: string; readonly reason: string }> {}

/** A signed manifest that does not parse, or is not in canonical form (truncated, edited by hand). */
export class ManifestMalformed extends Data.TaggedError("ManifestMalformed")<{ readonly reason: string }> {}

/** The manifest's signature does not verify under the expected signing key (changed manifest, or another key). */
export class ManifestSignatureInvalid extends Data.TaggedError("ManifestSignatureInvalid")<{ readonly reason: string }> {}

/** The manifest's Merkle root is not the root of its shard hashes. */
export class MerkleRootMismatch extends Data.TaggedError("MerkleRootMismatch")<{ readonly expected: string; readonly actual: string }> {}
