/**
 * The failures of a backup shard store (src/backup/store/BackupShards.ts). They cross the runner network (one node
 * asks another's shard store, domain/ShardStoreRpcs.ts), so they are schema classes; `reason` names the store and the
 * cause.
 */
import { Schema } from "effect"

/** A shard hash that is not 64 lower-case hex digits, or bytes whose SHA-256 is not the hash they were stored under. */
export class ShardInvalid extends Schema.TaggedError<ShardInvalid>()("ShardInvalid", { hash: Schema.String, reason: Schema.String }) {}

/** No reachable store holds a copy of the shard whose bytes still match its hash. */
export class ShardMissing extends Schema.TaggedError<ShardMissing>()("ShardMissing", { hash: Schema.String, reason: Schema.String }) {}

/** A store could not write or read (disk full, permission, node unreachable); `reason` names the store and the cause. */
export class ShardStoreFailed extends Schema.TaggedError<ShardStoreFailed>()(
  "ShardStoreFailed",
  { hash: Schema.String, reason: Schema.String }
) {}
