/**
 * Retention, shard garbage collection and the manifest scrub as one service (docs/BACKUPS.md#retention-and-gc): what
 * the maintenance singleton runs on its schedule (ShardMaintenanceSchedule.ts) and the CLI on demand.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Context, Duration, Effect, Layer, Option } from "effect"
import { BackupConfig } from "../BackupConfig.ts"
import { verifyKey } from "../job/BackupKeyFiles.ts"
import { type ManifestScrubReport, scrubManifests } from "../scrub/ManifestScrub.ts"
import { BackupShards } from "../store/BackupShards.ts"
import { prune, type PruneReport } from "./Prune.ts"
import { RetentionConfig, retentionOn } from "./RetentionConfig.ts"
import type { RetentionPolicy } from "./RetentionPolicy.ts"
import { collectShards, type GcReport } from "./ShardGc.ts"

export interface BackupRetentionShape {
  /** The policy applied (catalog entries deleted), then garbage collection; a dry run changes nothing. */
  readonly prune: (dryRun: boolean) => Effect.Effect<PruneReport, BackupMaintenanceError>
  /** Garbage collection of unreferenced shards only. */
  readonly gc: (dryRun: boolean) => Effect.Effect<GcReport, BackupMaintenanceError>
  /** Every committed manifest checked; none when no signing public key is configured (logged). */
  readonly scrubManifests: Effect.Effect<Option.Option<ManifestScrubReport>, BackupMaintenanceError>
}

/** A maintenance pass could not run (the catalog or a store unreachable). */
export interface BackupMaintenanceError {
  readonly _tag: "SqlError" | "ShardStoreFailed"
  readonly message?: string
  readonly reason?: string
}

export class BackupRetention extends Context.Tag("plexichat/BackupRetention")<BackupRetention, BackupRetentionShape>() {}

export const policyOf = (config: RetentionConfig["Type"]): RetentionPolicy | null =>
  retentionOn(config) ? { keepFull: Option.getOrUndefined(config.keepFull), keepIncremental: Option.getOrUndefined(config.keepIncremental) } : null

const logPrune = (report: PruneReport) => {
  const gc = report.gc
  const text = `backup retention: ${report.policy === null ? "no policy" : `${report.expired.length} backups expired, ${report.deleted} deleted`}; `
    + `gc: ${gc.stored} shards stored, ${gc.referenced} referenced, ${gc.unreferenced.length} unreferenced, ${gc.removed} removed`
    + (gc.deferredBy.length > 0 ? `; deferred while ${gc.deferredBy.join(", ")} runs` : "")
    + gc.failures.map((f) => `; could not remove ${f.hash}: ${f.reason}`).join("")
  return (gc.failures.length > 0 ? Effect.logWarning : Effect.logInfo)(text)
}

export const make = Effect.gen(function*() {
  const context = yield* Effect.context<SqlClient.SqlClient | BackupShards>()
  const config = yield* RetentionConfig
  const backup = yield* BackupConfig
  const options = (dryRun: boolean) =>
    Effect.map(Clock.currentTimeMillis, (now) => ({ dryRun, now, graceMs: Duration.toMillis(config.gcGrace) }))
  return BackupRetention.of({
    prune: (dryRun) => Effect.flatMap(options(dryRun), (o) => prune(policyOf(config), o)).pipe(Effect.tap(logPrune), Effect.provide(context)),
    gc: (dryRun) => Effect.flatMap(options(dryRun), collectShards).pipe(Effect.provide(context)),
    scrubManifests: Effect.either(verifyKey(backup)).pipe(
      Effect.flatMap((key) =>
        key._tag === "Left"
          ? Effect.as(Effect.logInfo(`backup manifest scrub skipped: ${key.left.file}: ${key.left.reason}`), Option.none())
          : Effect.map(scrubManifests(key.right), Option.some)),
      Effect.provide(context)
    )
  })
})

export const layer = Layer.effect(BackupRetention, make)
