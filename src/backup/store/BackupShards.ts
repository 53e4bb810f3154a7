/**
 * Where a backup's sealed chunks (shards) live: the contract between the backup job, which stores and retrieves
 * shards by their address (`SHA-256(sealed)`, hex), and whatever keeps them. The cluster implementation replicates
 * each shard to R nodes' shard stores; `LocalShardDirectory` keeps them in one directory on this node (the embedded
 * single node, and tests of the job).
 *
 * Every operation is idempotent: storing a shard that is already stored, or removing one that is gone, succeeds.
 */
import { Context, type Effect, type Stream } from "effect"
import type { ShardInvalid, ShardMissing, ShardStoreFailed } from "../../../domain/BackupShardErrors.ts"

/** The errors are schema classes: they also cross the runner network between nodes' stores (domain/ShardStoreRpcs.ts). */
export { ShardInvalid, ShardMissing, ShardStoreFailed } from "../../../domain/BackupShardErrors.ts"

/** Where one shard was stored. */
export interface ShardPlacement {
  readonly hash: string
  /** The stores (node ids; `"local"` for a single directory) that now hold a verified copy. */
  readonly replicas: ReadonlyArray<string>
  /** How many copies were asked for. Fewer replicas than this is a warning the caller reports, not a failure. */
  readonly wanted: number
}

export interface BackupShardsService {
  /** Stores `bytes` under `hash` after checking `SHA-256(bytes) == hash`, on as many stores as configured. */
  readonly store: (hash: string, bytes: Uint8Array) => Effect.Effect<ShardPlacement, ShardInvalid | ShardStoreFailed>
  /** The bytes of a shard, from any store whose copy still matches its hash. */
  readonly retrieve: (hash: string) => Effect.Effect<Uint8Array, ShardInvalid | ShardMissing>
  /** Whether at least one store holds the shard (not read back: `retrieve` checks the bytes). */
  readonly has: (hash: string) => Effect.Effect<boolean, ShardInvalid | ShardStoreFailed>
  /** Removes the shard from every store (garbage collection of shards no manifest references). */
  readonly remove: (hash: string) => Effect.Effect<void, ShardInvalid | ShardStoreFailed>
  /** Every shard hash held by at least one store, each once. */
  readonly list: Stream.Stream<string, ShardStoreFailed>
}

export class BackupShards extends Context.Tag("plexichat/BackupShards")<BackupShards, BackupShardsService>() {}

/** Whether `hash` is a shard address: 64 lower-case hex digits. */
export const isShardHash = (hash: unknown): hash is string => typeof hash === "string" && /^[0-9a-f]{64}$/.test(hash)
