/**
 * `plexichat backup prune [--dry-run] [--json]`: applies the retention policy (PLEXI_BACKUP_KEEP_FULL,
 * PLEXI_BACKUP_KEEP_INCREMENTAL; docs/BACKUPS.md#retention-and-gc) to the catalog, then garbage-collects the
 * shards. With no policy set nothing expires (the shards are still collected). `--dry-run` changes nothing.
 */
import { Command } from "@effect/cli"
import { Effect } from "effect"
import { BackupRetention } from "../backup/retention/BackupRetention.ts"
import { jsonOption, report } from "./BackupCliSupport.ts"
import { dryRunOption, gcText, maintenanceFailed } from "./BackupGcCommand.ts"
import { MaintenanceLayer } from "./BackupMaintenanceLayer.ts"

export const pruneCommand = Command.make("prune", { json: jsonOption, dryRun: dryRunOption }, ({ dryRun, json }) =>
  Effect.gen(function*() {
    const pruned = yield* (yield* BackupRetention).prune(dryRun)
    const policy = pruned.policy === null
      ? "no retention policy (PLEXI_BACKUP_KEEP_FULL / PLEXI_BACKUP_KEEP_INCREMENTAL unset): nothing expires"
      : `keep ${pruned.policy.keepFull ?? "all"} full, ${pruned.policy.keepIncremental ?? "all"} incremental: ${pruned.expired.length} expired`
        + (pruned.expired.length === 0 ? "" : ` (${pruned.expired.map((e) => e.id).join(", ")})`) + (dryRun ? ", none deleted (dry run)" : `, ${pruned.deleted} deleted`)
    yield* report(json, { ok: pruned.gc.failures.length === 0, ...pruned }, `${policy}\n${gcText(pruned.gc)}`)
    if (pruned.gc.failures.length > 0) process.exitCode = 1
  }).pipe(Effect.catchAll(maintenanceFailed(json, "prune")))).pipe(
    Command.withDescription("Deletes the backups the retention policy lets go, then their shards (--dry-run: only lists them)."),
    Command.provide(MaintenanceLayer)
  )
