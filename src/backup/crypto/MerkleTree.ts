/**
 * The Merkle tree over a manifest's shard hashes: RFC 9162 §2.1.1's Merkle Tree Hash with SHA-256
 * (docs/BACKUPS.md#cryptography).
 *
 * - no leaves: `SHA-256("")`;
 * - one leaf `d`: `SHA-256(0x00 || d)`, `d` being the shard's 32-byte SHA-256;
 * - `n > 1` leaves: with `k` the largest power of two below `n`,
 *   `SHA-256(0x01 || MTH(d[0..k]) || MTH(d[k..n]))`.
 *
 * The 0x00 / 0x01 prefixes keep a leaf from passing for an inner node; an odd count is never padded by repeating
 * the last leaf (which would give two lists the same root).
 */
import { createHash } from "node:crypto"

const sha256 = (...parts: Array<Uint8Array>) => {
  const hash = createHash("sha256")
  for (const part of parts) hash.update(part)
  return hash.digest()
}

const leafPrefix = Uint8Array.of(0x00)
const nodePrefix = Uint8Array.of(0x01)

const largestPowerOfTwoBelow = (n: number) => {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

const mth = (leaves: ReadonlyArray<Uint8Array>, from: number, to: number): Buffer => {
  if (to - from === 1) return sha256(leafPrefix, leaves[from]!)
  const k = largestPowerOfTwoBelow(to - from)
  return sha256(nodePrefix, mth(leaves, from, from + k), mth(leaves, from + k, to))
}

/** The root over the leaves in order (the recursion is log2(n) deep). */
export const merkleRoot = (leaves: ReadonlyArray<Uint8Array>): Uint8Array =>
  Uint8Array.from(leaves.length === 0 ? sha256() : mth(leaves, 0, leaves.length))

/** The root as 64 lower-case hex digits, of shard hashes given as hex. */
export const merkleRootHex = (shardHashes: ReadonlyArray<string>): string =>
  Buffer.from(merkleRoot(shardHashes.map((h) => Buffer.from(h, "hex")))).toString("hex")
