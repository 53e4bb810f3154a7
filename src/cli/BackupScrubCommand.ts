/**
 * `plexichat backup scrub [--url <node> …] [--json]`: the scrub of the shards (every copy read and checked against
 * its hash, corrupt ones written again from a good copy; ShardMaintenance.scrub) and of every committed manifest
 * (signature under PLEXI_BACKUP_SIGNING_PUBLIC, Merkle root, each shard present; ManifestScrub.ts). Without `--url`
 * it runs here over the CLI's own store (PLEXI_BACKUP_SHARD_DIR) and DATABASE_URL's catalog; with `--url` the node
 * runs it over the cluster's stores (admin RPC `BackupScrub`). Every problem is printed naming the backup, the
 * shard and the reason; the exit status is 1 when there is any.
 */
import { Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { BackupConfig } from "../backup/BackupConfig.ts"
import { verifyKey } from "../backup/job/BackupKeyFiles.ts"
import { type ManifestScrubReport, scrubManifests } from "../backup/scrub/ManifestScrub.ts"
import { type ScrubReport, ShardMaintenance } from "../backup/scrub/ShardMaintenance.ts"
import { failed, jsonOption, report } from "./BackupCliSupport.ts"
import { maintenanceFailed } from "./BackupGcCommand.ts"
import { MaintenanceLayer } from "./BackupMaintenanceLayer.ts"
import { callNode, nodeOptions, onNode } from "./BackupRemotePass.ts"

const show = (json: boolean, shards: ScrubReport, manifests: ManifestScrubReport | null) =>
  Effect.gen(function*() {
    const lines = [
      ...shards.corrupt.map((c) => `corrupt copy of shard ${c.hash} on ${c.node}`),
      ...shards.lost.map((hash) => `shard ${hash} has no good copy left`),
      ...shards.unreadable.map((u) => `store ${u.node} unreadable: ${u.reason}`),
      ...(manifests?.problems ?? []).map((p) => `backup ${p.backup}${p.shard === null ? "" : ` shard ${p.shard}`}: ${p.reason}`)
    ]
    const ok = lines.length === 0
    const checked = manifests === null ? "manifests not checked (no signing key on the node)" : `${manifests.manifests} manifests and ${manifests.shardsChecked} of their shards`
    yield* report(json, { ok, shards, manifests }, [`${ok ? "ok" : "problems"}: ${shards.copiesChecked} shard copies on ${shards.nodes.length} stores checked, ${checked}`, ...lines].join("\n"))
    if (!ok) {
      if (!json) yield* Console.error(`backup scrub found ${lines.length} problems`)
      process.exitCode = 1
    }
  })

const local = (json: boolean) =>
  Effect.gen(function*() {
    const key = yield* verifyKey(yield* BackupConfig)
    const shards = yield* (yield* ShardMaintenance).scrub
    yield* show(json, shards, yield* scrubManifests(key))
  }).pipe(
    Effect.catchTags({ BackupKeyUnavailable: failed(json), SqlError: maintenanceFailed(json, "scrub") }),
    Effect.provide(MaintenanceLayer)
  )

export const scrubCommand = Command.make("scrub", { ...nodeOptions, json: jsonOption }, (flags) =>
  Effect.gen(function*() {
    if (!onNode(flags)) return yield* local(flags.json)
    const { manifests, ...shards } = yield* callNode(flags, (c) => c.BackupScrub({}))
    yield* show(flags.json, shards, manifests)
  })).pipe(
    Command.withDescription("Checks every shard copy against its hash and every committed manifest's signature, root and shards (--url: on that node's cluster).")
  )
