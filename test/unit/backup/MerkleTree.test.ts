/**
 * The Merkle root over shard hashes (RFC 9162 §2.1.1 with SHA-256), computed by hand for 0 to 5 and 7 leaves;
 * leaves and inner nodes are told apart, and an odd count is not padded.
 */
import { createHash, randomBytes } from "node:crypto"
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { merkleRoot, merkleRootHex } from "../../../src/backup/crypto/MerkleTree.ts"

const h = (...parts: Array<Uint8Array>) => {
  const hash = createHash("sha256")
  for (const p of parts) hash.update(p)
  return hash.digest()
}
const leaf = (d: Uint8Array) => h(Uint8Array.of(0), d)
const node = (l: Uint8Array, r: Uint8Array) => h(Uint8Array.of(1), l, r)
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")
const replaced = <A>(xs: ReadonlyArray<A>, i: number, x: A) => xs.map((y, k) => (k === i ? x : y))
const d = Array.from({ length: 7 }, (_, i) => h(Buffer.from(`shard ${i}`)))

describe("merkle root", () => {
  it("of no leaves is SHA-256 of nothing", () => {
    expect(hex(merkleRoot([]))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  })

  it("of one leaf is SHA-256(0x00 || leaf)", () => {
    expect(hex(merkleRoot([d[0]!]))).toBe(hex(leaf(d[0]!)))
  })

  it("of two and three leaves splits at the largest power of two below the count", () => {
    expect(hex(merkleRoot(d.slice(0, 2)))).toBe(hex(node(leaf(d[0]!), leaf(d[1]!))))
    expect(hex(merkleRoot(d.slice(0, 3)))).toBe(hex(node(node(leaf(d[0]!), leaf(d[1]!)), leaf(d[2]!))))
  })

  it("of five and seven leaves (odd counts) follows the same split, never repeating a leaf", () => {
    const l = d.map(leaf)
    const four = node(node(l[0]!, l[1]!), node(l[2]!, l[3]!))
    expect(hex(merkleRoot(d.slice(0, 5)))).toBe(hex(node(four, l[4]!)))
    expect(hex(merkleRoot(d))).toBe(hex(node(four, node(node(l[4]!, l[5]!), l[6]!))))
    expect(hex(merkleRoot([...d.slice(0, 3), d[2]!]))).not.toBe(hex(merkleRoot(d.slice(0, 3))))
  })

  it("keeps leaves and inner nodes apart: two leaves' root is not a leaf of their concatenated hashes", () => {
    const concatenated = Buffer.concat([leaf(d[0]!), leaf(d[1]!)])
    expect(hex(merkleRoot([concatenated]))).not.toBe(hex(merkleRoot(d.slice(0, 2))))
  })

  test.prop([fc.integer({ min: 1, max: 40 }), fc.nat(), fc.nat()])("changes when any leaf changes or two differing leaves swap", (n, pick, other) => {
    const shards = Array.from({ length: n }, () => randomBytes(32).toString("hex"))
    const root = merkleRootHex(shards)
    const i = pick % n
    const changed = replaced(shards, i, randomBytes(32).toString("hex"))
    expect(merkleRootHex(changed)).not.toBe(root)
    const j = other % n
    if (i !== j) expect(merkleRootHex(replaced(replaced(shards, i, shards[j]!), j, shards[i]!))).not.toBe(root)
  })
})
