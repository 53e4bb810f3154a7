/**
 * A key rotation over the whole catalog (docs/BACKUPS.md#rotating-keys): every committed backup's signed manifest
 * goes through one `Rotation` (KeyRotation.ts) and the changed ones are written back, all in ONE transaction. Any
 * failure (a manifest that does not verify, a data key the old key does not open, a manifest stored under another
 * backup's id, a copy that cannot be written) rolls every row back and names the backup and the reason.
 *
 * The transaction first locks `plexi_backups` against writes (`SHARE ROW EXCLUSIVE`: readers go on; no backup can
 * start, record a shard, commit or be pruned until it ends), then refuses while a backup is running: the durable
 * job's wrapped keys (`plexi_backup_jobs.recipients`) and its data key sealed under the signing key (JobKey.ts)
 * would commit a manifest with the old keys, or stop opening on a node with the new signing key; a local-mode
 * `create` in another process (a `running` entry without a job row) likewise. Such an entry older than the grace
 * (`PLEXI_BACKUP_GC_GRACE`, the rule garbage collection uses) counts as a dead process's and does not block.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Data, Effect } from "effect"
import { type Rotation, rotationFailureReason } from "../crypto/KeyRotation.ts"

/** A rotation stopped: nothing in the catalog changed. `backup` is the backup at fault, null when none is. */
export class KeyRotationFailed extends Data.TaggedError("KeyRotationFailed")<{ readonly backup: string | null; readonly reason: string }> {}

/** A backup is running (`backupId`): a rotation now would leave it with the old keys, so nothing was changed. */
export class KeyRotationBlocked extends Data.TaggedError("KeyRotationBlocked")<{ readonly backupId: string; readonly reason: string }> {}

export interface CatalogRotationOptions {
  readonly rotate: Rotation
  /** Report what would change; write nothing. */
  readonly dryRun: boolean
  /** How long (ms) a `running` entry without a job row blocks (PLEXI_BACKUP_GC_GRACE), counted back from `now`. */
  readonly graceMs: number
  readonly now: number
  /** Called for each changed manifest before the transaction commits (not on a dry run); its failure rolls back. */
  readonly onChanged?: (backupId: string, text: string) => Effect.Effect<void, KeyRotationFailed>
}

export interface CatalogRotationReport {
  readonly dryRun: boolean
  /** The backups whose manifest changed (or would, on a dry run), oldest first. */
  readonly changed: ReadonlyArray<string>
  /** The committed backups left as they were, and why. */
  readonly skipped: ReadonlyArray<{ readonly backupId: string; readonly reason: string }>
}

const refuseWhileRunning = (sql: SqlClient.SqlClient, options: CatalogRotationOptions) =>
  Effect.gen(function*() {
    const running = yield* sql<{ id: string; created_at: string; step: string | null; runner: string | null; job: boolean }>`
      SELECT b.id, b.created_at::text, j.step, j.runner, j.backup_id IS NOT NULL AS job
      FROM plexi_backups b LEFT JOIN plexi_backup_jobs j ON j.backup_id = b.id
      WHERE b.state = 'running' ORDER BY b.created_at, b.id`
    for (const r of running) {
      if (r.job) {
        return yield* Effect.fail(new KeyRotationBlocked({
          backupId: r.id,
          reason: `the backup job ${r.id} is running (step ${r.step}${r.runner === null ? "" : `, on ${r.runner}`}): its wrapped keys and its data key ` +
            `(sealed under the signing key) are the old ones; wait for it to end or cancel it (backup cancel --url <node> ${r.id}), then rotate`
        }))
      }
      if (Number(r.created_at) > options.now - options.graceMs) {
        return yield* Effect.fail(new KeyRotationBlocked({
          backupId: r.id,
          reason: `backup ${r.id} is running (a create without --url, started ${new Date(Number(r.created_at)).toISOString()}): ` +
            `it would commit with the old keys; wait for it to end, then rotate`
        }))
      }
    }
  })

/** Rotates every committed manifest in one transaction, or nothing. */
export const rotateCatalog = (
  options: CatalogRotationOptions
): Effect.Effect<CatalogRotationReport, KeyRotationFailed | KeyRotationBlocked, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(Effect.gen(function*() {
      yield* sql`LOCK TABLE plexi_backups IN SHARE ROW EXCLUSIVE MODE`
      yield* refuseWhileRunning(sql, options)
      const ids = yield* sql<{ id: string }>`SELECT id FROM plexi_backups WHERE state = 'committed' ORDER BY created_at, id`
      const changed: Array<string> = []
      const skipped: Array<{ backupId: string; reason: string }> = []
      // One manifest in memory at a time: a manifest holds 64 hex digits per MiB of its backup.
      for (const { id } of ids) {
        const [row] = yield* sql<{ manifest: string }>`SELECT manifest FROM plexi_backups WHERE id = ${id}`
        const rotated = yield* Effect.mapError(options.rotate(row!.manifest), (e) => new KeyRotationFailed({ backup: id, reason: rotationFailureReason(e) }))
        if (rotated.backupId !== id) {
          return yield* Effect.fail(new KeyRotationFailed({ backup: id, reason: `the manifest stored under it is of backup ${rotated.backupId}` }))
        }
        if (rotated._tag === "Unchanged") {
          skipped.push({ backupId: id, reason: rotated.reason })
          continue
        }
        changed.push(id)
        if (options.dryRun) continue
        yield* sql`UPDATE plexi_backups SET manifest = ${rotated.text} WHERE id = ${id}`
        if (options.onChanged) yield* options.onChanged(id, rotated.text)
      }
      return { dryRun: options.dryRun, changed, skipped } satisfies CatalogRotationReport
    }))).pipe(
    Effect.catchTag("SqlError", (e: SqlError.SqlError) => Effect.fail(new KeyRotationFailed({ backup: null, reason: `database: ${e.message}` })))
  )
