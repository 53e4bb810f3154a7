/**
 * The scheduled maintenance passes: one cluster singleton (`BackupShardMaintenance`), so that one node at a time
 * runs them and another takes over when it is lost. Repair runs every PLEXI_BACKUP_REPAIR_INTERVAL, scrub (the
 * shards, then the committed manifests) every PLEXI_BACKUP_SCRUB_INTERVAL, retention and shard garbage collection
 * every PLEXI_BACKUP_GC_INTERVAL; one pass at a time, the first of each one interval after the singleton starts.
 */
import { Singleton } from "@effect/cluster"
import { type Duration, Effect } from "effect"
import { BackupRetention } from "../retention/BackupRetention.ts"
import { RetentionConfig } from "../retention/RetentionConfig.ts"
import { ShardStoreConfig } from "../store/ShardStoreConfig.ts"
import { ShardMaintenance } from "./ShardMaintenance.ts"

const run = Effect.gen(function*() {
  const maintenance = yield* ShardMaintenance
  const retention = yield* BackupRetention
  const config = yield* ShardStoreConfig
  const { gcInterval } = yield* RetentionConfig
  const oneAtATime = (yield* Effect.makeSemaphore(1)).withPermits(1)
  const every = (pass: Effect.Effect<unknown, unknown>, interval: Duration.Duration) =>
    Effect.sleep(interval).pipe(
      Effect.zipRight(oneAtATime(Effect.catchAll(pass, (e) => Effect.logWarning("backup maintenance pass failed", e)))),
      Effect.forever
    )
  yield* Effect.all([
    every(maintenance.repair, config.repairInterval),
    every(Effect.zipRight(maintenance.scrub, retention.scrubManifests), config.scrubInterval),
    every(retention.prune(false), gcInterval)
  ], { concurrency: 3, discard: true })
}).pipe(Effect.annotateLogs({ module: "BackupShardMaintenance" }))

export const layer = Singleton.make("BackupShardMaintenance", Effect.asVoid(run))
