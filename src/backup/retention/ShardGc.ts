/**
 * Garbage collection of backup shards (docs/BACKUPS.md#retention-and-gc): every shard the stores hold that no
 * running or committed backup references is removed from every store (`BackupShards.remove`).
 *
 * A running backup stores a shard before it records it. The stores are therefore listed first and the catalog read
 * after, in one statement (RetentionCatalog.references): a listed shard of a backup still running then shows up as
 * that running backup. While a backup younger than the grace period runs, nothing is removed (the pass is deferred
 * and says by which backups); a `running` entry older than the grace period counts as dead (a killed process), and
 * its unrecorded shard is removed (its recorded ones stay referenced).
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { Chunk, Effect, Stream } from "effect"
import { BackupShards } from "../store/BackupShards.ts"
import { references } from "./RetentionCatalog.ts"

export interface GcReport {
  /** Shards the stores hold. */
  readonly stored: number
  /** Shards the catalog references. */
  readonly referenced: number
  /** The shards no backup references (removed unless a dry run or deferred). */
  readonly unreferenced: ReadonlyArray<string>
  readonly removed: number
  /** Running backups younger than the grace period: while any runs, nothing is removed. */
  readonly deferredBy: ReadonlyArray<string>
  readonly failures: ReadonlyArray<{ readonly hash: string; readonly reason: string }>
  readonly dryRun: boolean
}

export interface GcOptions {
  readonly dryRun: boolean
  readonly graceMs: number
  readonly now: number
}

export const collectShards = (options: GcOptions): Effect.Effect<GcReport, SqlError.SqlError | { readonly _tag: "ShardStoreFailed"; readonly reason: string }, SqlClient.SqlClient | BackupShards> =>
  Effect.gen(function*() {
    const shards = yield* BackupShards
    const stored = Chunk.toReadonlyArray(yield* Stream.runCollect(shards.list))
    const refs = yield* references
    const unreferenced = stored.filter((hash) => !refs.hashes.has(hash))
    const deferredBy = refs.running.filter((r) => r.createdAt > options.now - options.graceMs).map((r) => r.id)
    const failures: Array<{ hash: string; reason: string }> = []
    let removed = 0
    if (!options.dryRun && deferredBy.length === 0) {
      yield* Effect.forEach(unreferenced, (hash) =>
        shards.remove(hash).pipe(
          Effect.map(() => {
            removed += 1
          }),
          Effect.catchAll((e) => Effect.sync(() => failures.push({ hash, reason: e.reason })))
        ), { concurrency: 4, discard: true })
    }
    return { stored: stored.length, referenced: refs.hashes.size, unreferenced, removed, deferredBy, failures, dryRun: options.dryRun } satisfies GcReport
  })
