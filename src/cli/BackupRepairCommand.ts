/**
 * `plexichat backup repair [--json]`: the repair pass over the CLI's shard store (ShardMaintenance.repair). The CLI's
 * store keeps one copy, so there is nothing to copy a lost shard from: the pass reports the shards held by no store.
 */
import { Command } from "@effect/cli"
import { Effect } from "effect"
import { ShardMaintenance } from "../backup/scrub/ShardMaintenance.ts"
import { jsonOption, report } from "./BackupCliSupport.ts"
import { MaintenanceLayer } from "./BackupMaintenanceLayer.ts"

export const repairCommand = Command.make("repair", { json: jsonOption }, ({ json }) =>
  Effect.gen(function*() {
    const repaired = yield* (yield* ShardMaintenance).repair
    const ok = repaired.failures.length === 0 && repaired.lost.length === 0 && repaired.unreadable.length === 0
    yield* report(json, { ok, ...repaired }, `${repaired.shards} shards on ${repaired.nodes.length} stores; ${repaired.underReplicated} under R, ${repaired.copied} copies written`
      + repaired.unreadable.map((u) => `; store ${u.node} unreadable: ${u.reason}`).join(""))
    if (!ok) process.exitCode = 1
  })).pipe(Command.withDescription("Copies shards held by fewer stores than wanted from a good copy."), Command.provide(MaintenanceLayer))
