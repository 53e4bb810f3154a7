/**
 * `plexichat backup scrub [--json]`: the scrub of the CLI's shard store (every copy read and checked against its
 * hash, ShardMaintenance.scrub) and of every committed manifest (signature under PLEXI_BACKUP_SIGNING_PUBLIC, Merkle
 * root, each shard present; ManifestScrub.ts). Every problem is printed naming the backup, the shard and the reason;
 * the exit status is 1 when there is any.
 */
import { Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { BackupConfig } from "../backup/BackupConfig.ts"
import { verifyKey } from "../backup/job/BackupKeyFiles.ts"
import { scrubManifests } from "../backup/scrub/ManifestScrub.ts"
import { ShardMaintenance } from "../backup/scrub/ShardMaintenance.ts"
import { failed, jsonOption, report } from "./BackupCliSupport.ts"
import { maintenanceFailed } from "./BackupGcCommand.ts"
import { MaintenanceLayer } from "./BackupMaintenanceLayer.ts"

export const scrubCommand = Command.make("scrub", { json: jsonOption }, ({ json }) =>
  Effect.gen(function*() {
    const key = yield* verifyKey(yield* BackupConfig)
    const shards = yield* (yield* ShardMaintenance).scrub
    const manifests = yield* scrubManifests(key)
    const lines = [
      ...shards.corrupt.map((c) => `corrupt copy of shard ${c.hash} on ${c.node}`),
      ...shards.lost.map((hash) => `shard ${hash} has no good copy left`),
      ...manifests.problems.map((p) => `backup ${p.backup}${p.shard === null ? "" : ` shard ${p.shard}`}: ${p.reason}`)
    ]
    const ok = lines.length === 0
    const summary = `${ok ? "ok" : "problems"}: ${shards.copiesChecked} shard copies checked, ${manifests.manifests} manifests and ${manifests.shardsChecked} of their shards`
    yield* report(json, { ok, shards, manifests }, [summary, ...lines].join("\n"))
    if (!ok) {
      if (!json) yield* Console.error(`backup scrub found ${lines.length} problems`)
      process.exitCode = 1
    }
  }).pipe(Effect.catchTags({ BackupKeyUnavailable: failed(json), SqlError: maintenanceFailed(json, "scrub") }))).pipe(
    Command.withDescription("Checks every shard copy against its hash and every committed manifest's signature, root and shards."),
    Command.provide(MaintenanceLayer)
  )
