/**
 * Rendezvous (highest random weight) hashing: every node gets a score per shard, `SHA-256(hash, node)`, and the shard
 * belongs to the nodes with the highest scores. A node that leaves or joins moves only the shards it scores highest
 * on; every caller that sees the same live nodes ranks them the same way.
 */
import { createHash } from "node:crypto"

const score = (hash: string, node: string) => createHash("sha256").update(hash).update("\0").update(node).digest("hex")

/** `nodes` in the order they are preferred for the shard `hash`: the first R are its placement. */
export const rankFor = <N extends { readonly id: string }>(hash: string, nodes: ReadonlyArray<N>): Array<N> =>
  nodes
    .map((node) => ({ node, score: score(hash, node.id) }))
    .sort((a, b) => (a.score < b.score ? 1 : a.score > b.score ? -1 : a.node.id < b.node.id ? -1 : 1))
    .map(({ node }) => node)
