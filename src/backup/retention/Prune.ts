/**
 * Retention (docs/BACKUPS.md#retention-and-gc): the committed backups the policy lets go (RetentionPolicy.ts) are
 * deleted from the catalog in one statement, then their shards are garbage-collected (ShardGc.ts). A dry run
 * changes nothing and says what would go.
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { BackupShards } from "../store/BackupShards.ts"
import { deleteCommitted, liveEntries } from "./RetentionCatalog.ts"
import { expired, type RetainedEntry, type RetentionPolicy } from "./RetentionPolicy.ts"
import { collectShards, type GcOptions, type GcReport } from "./ShardGc.ts"

export interface PruneReport {
  /** Whether a policy is set (PLEXI_BACKUP_KEEP_FULL / PLEXI_BACKUP_KEEP_INCREMENTAL); off: nothing expires. */
  readonly policy: RetentionPolicy | null
  /** The backups the policy lets go (deleted unless a dry run). */
  readonly expired: ReadonlyArray<Pick<RetainedEntry, "id" | "kind" | "createdAt">>
  readonly deleted: number
  readonly gc: GcReport
}

export const prune = (policy: RetentionPolicy | null, options: GcOptions) =>
  Effect.gen(function*() {
    const going = policy === null ? [] : expired(yield* liveEntries, policy)
    const deleted = options.dryRun ? [] : yield* deleteCommitted(going.map((e) => e.id))
    const gc = yield* collectShards(options)
    return {
      policy,
      expired: going.map(({ createdAt, id, kind }) => ({ id, kind, createdAt })),
      deleted: deleted.length,
      gc
    } satisfies PruneReport
  }) satisfies Effect.Effect<PruneReport, unknown, SqlClient.SqlClient | BackupShards>
