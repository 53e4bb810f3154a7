/**
 * The scheduled repair and scrub passes: one cluster singleton (`BackupShardMaintenance`), so that one node at a
 * time runs them and another takes over when it is lost. Repair runs every PLEXI_BACKUP_REPAIR_INTERVAL, scrub every
 * PLEXI_BACKUP_SCRUB_INTERVAL, one pass at a time; the first of each runs one interval after the singleton starts.
 */
import { Singleton } from "@effect/cluster"
import { type Duration, Effect } from "effect"
import { ShardStoreConfig } from "../store/ShardStoreConfig.ts"
import { ShardMaintenance } from "./ShardMaintenance.ts"

const run = Effect.gen(function*() {
  const maintenance = yield* ShardMaintenance
  const config = yield* ShardStoreConfig
  const oneAtATime = (yield* Effect.makeSemaphore(1)).withPermits(1)
  const every = (pass: Effect.Effect<unknown>, interval: Duration.Duration) =>
    Effect.sleep(interval).pipe(Effect.zipRight(oneAtATime(pass)), Effect.forever)
  yield* Effect.all([every(maintenance.repair, config.repairInterval), every(maintenance.scrub, config.scrubInterval)], {
    concurrency: 2,
    discard: true
  })
}).pipe(Effect.annotateLogs({ module: "BackupShardMaintenance" }))

export const layer = Singleton.make("BackupShardMaintenance", Effect.asVoid(run))

