/**
 * `plexichat backup gc [--dry-run] [--json]`: removes the shards of the CLI's store that no running or committed
 * backup references (docs/BACKUPS.md#retention-and-gc); deferred while a backup younger than PLEXI_BACKUP_GC_GRACE
 * runs. `--dry-run` lists them and removes nothing.
 */
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { BackupMaintenanceFailed } from "../../domain/BackupMaintenanceRpcs.ts"
import { BackupRetention } from "../backup/retention/BackupRetention.ts"
import type { GcReport } from "../backup/retention/ShardGc.ts"
import { failed, jsonOption, report } from "./BackupCliSupport.ts"
import { MaintenanceLayer } from "./BackupMaintenanceLayer.ts"

export const dryRunOption = Options.boolean("dry-run").pipe(Options.withDescription("Say what would be removed; change nothing."))

export const gcText = (gc: GcReport) =>
  `gc: ${gc.stored} shards stored, ${gc.referenced} referenced, ${gc.unreferenced.length} unreferenced, `
  + (gc.dryRun ? "none removed (dry run)" : gc.deferredBy.length > 0 ? `none removed: deferred while ${gc.deferredBy.join(", ")} runs` : `${gc.removed} removed`)
  + gc.failures.map((f) => `; could not remove ${f.hash}: ${f.reason}`).join("")

/** A pass that could not run, as the CLI's typed failure. */
export const maintenanceFailed = (json: boolean, what: string) => (e: { readonly _tag: string; readonly reason?: string; readonly message?: string }) =>
  failed(json)(new BackupMaintenanceFailed({ what, reason: `${e._tag}: ${e.reason ?? e.message ?? ""}` }))

export const gcCommand = Command.make("gc", { json: jsonOption, dryRun: dryRunOption }, ({ dryRun, json }) =>
  Effect.gen(function*() {
    const gc = yield* (yield* BackupRetention).gc(dryRun)
    yield* report(json, { ok: gc.failures.length === 0, ...gc }, gcText(gc))
    if (gc.failures.length > 0) process.exitCode = 1
  }).pipe(Effect.catchAll(maintenanceFailed(json, "gc")))).pipe(
    Command.withDescription("Removes shards no running or committed backup references (--dry-run: only lists them)."),
    Command.provide(MaintenanceLayer)
  )
