/**
 * `plexichat backup repair [--url <node> …] [--json]`: the repair pass (ShardMaintenance.repair): shards held by
 * fewer stores than wanted copied from a good copy. Without `--url` over the CLI's own store (one copy: nothing to
 * copy from, so it reports the shards no store holds); with `--url` the node runs it over the cluster's stores
 * (admin RPC `BackupRepair`). Exit status 1 when a shard stays short or a store is unreadable.
 */
import { Command } from "@effect/cli"
import { Effect } from "effect"
import { type RepairReport, ShardMaintenance } from "../backup/scrub/ShardMaintenance.ts"
import { jsonOption, report } from "./BackupCliSupport.ts"
import { MaintenanceLayer } from "./BackupMaintenanceLayer.ts"
import { callNode, nodeOptions, onNode } from "./BackupRemotePass.ts"

const show = (json: boolean, repaired: RepairReport) =>
  Effect.gen(function*() {
    const ok = repaired.failures.length === 0 && repaired.lost.length === 0 && repaired.unreadable.length === 0
    yield* report(json, { ok, ...repaired }, `${repaired.shards} shards on ${repaired.nodes.length} stores; ${repaired.underReplicated} under R, ${repaired.copied} copies written`
      + repaired.lost.map((hash) => `; shard ${hash} has no good copy left`).join("")
      + repaired.failures.map((f) => `; shard ${f.hash} still short: ${f.reason}`).join("")
      + repaired.unreadable.map((u) => `; store ${u.node} unreadable: ${u.reason}`).join(""))
    if (!ok) process.exitCode = 1
  })

export const repairCommand = Command.make("repair", { ...nodeOptions, json: jsonOption }, (flags) =>
  Effect.gen(function*() {
    const repaired = onNode(flags)
      ? yield* callNode(flags, (c) => c.BackupRepair({}))
      : yield* Effect.flatMap(ShardMaintenance, (m) => m.repair).pipe(Effect.provide(MaintenanceLayer))
    yield* show(flags.json, repaired)
  })).pipe(
    Command.withDescription("Copies shards held by fewer stores than wanted from a good copy (--url: on that node's cluster).")
  )
