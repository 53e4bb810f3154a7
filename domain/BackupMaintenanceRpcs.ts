/**
 * The backup shard passes of a node as admin RPCs (`/rpc`, docs/BACKUPS.md#the-cli): the CLI's
 * `backup scrub --url` and `backup repair --url` run the answering node's `ShardMaintenance` over the cluster's
 * stores. Owners and admins only (the stored role; anyone else `Forbidden`, audited as `admin.ops.denied`); each
 * run is audited (`admin.backup_scrub`, `admin.backup_repair`).
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { RpcAuthentication } from "./Api.ts"
import { Forbidden, ServiceUnavailable } from "./Errors.ts"

const Failure = Schema.Struct({ hash: Schema.String, reason: Schema.String })
const Unreadable = Schema.Struct({ node: Schema.String, reason: Schema.String })

/** What a repair pass found and did: shards under R, copies written, shards with no good copy, stores unreadable. */
export const BackupRepairReport = Schema.Struct({
  shards: Schema.Number,
  nodes: Schema.Array(Schema.String),
  underReplicated: Schema.Number,
  copied: Schema.Number,
  lost: Schema.Array(Schema.String),
  failures: Schema.Array(Failure),
  unreadable: Schema.Array(Unreadable)
})

/** A manifest problem: the backup, the shard (`<index>:<hash>`) when one is at fault, the reason. */
export const BackupManifestProblem = Schema.Struct({ backup: Schema.String, shard: Schema.NullOr(Schema.String), reason: Schema.String })

/** A scrub: the shard pass (copies checked, corrupt ones) and the manifest check (none without a signing key). */
export const BackupScrubReport = Schema.Struct({
  ...BackupRepairReport.fields,
  copiesChecked: Schema.Number,
  corrupt: Schema.Array(Schema.Struct({ hash: Schema.String, node: Schema.String })),
  manifests: Schema.NullOr(Schema.Struct({ manifests: Schema.Number, shardsChecked: Schema.Number, problems: Schema.Array(BackupManifestProblem) }))
})

/** A backup maintenance command could not run: its catalog or store unreachable, or a setting missing (`what`). */
export class BackupMaintenanceFailed extends Schema.TaggedError<BackupMaintenanceFailed>()("BackupMaintenanceFailed", {
  what: Schema.String,
  reason: Schema.String
}) {}

const Failures = Schema.Union(Forbidden, ServiceUnavailable)

/** Reads every shard copy on every live store, repairs what it can, then checks every committed manifest. */
export const BackupScrub = Rpc.make("BackupScrub", { payload: {}, success: BackupScrubReport, error: Failures })

/** Copies every shard held by fewer than R live nodes from a good copy. */
export const BackupRepair = Rpc.make("BackupRepair", { payload: {}, success: BackupRepairReport, error: Failures })

export class BackupMaintenanceRpcs extends RpcGroup.make(BackupScrub, BackupRepair).middleware(RpcAuthentication) {}
