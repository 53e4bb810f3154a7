/**
 * Handlers of the backup maintenance RPCs (domain/BackupMaintenanceRpcs.ts): the caller's stored role checked
 * (owners and admins), the node's pass run, the run audited with its figures.
 */
import { Effect, Option } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import { BackupMaintenanceRpcs } from "../../domain/BackupMaintenanceRpcs.ts"
import { ServiceUnavailable } from "../../domain/Errors.ts"
import { AuditLog } from "../audit/AuditLog.ts"
import { BackupRetention } from "../backup/retention/BackupRetention.ts"
import { ShardMaintenance } from "../backup/scrub/ShardMaintenance.ts"
import { Operations } from "../operations/Operations.ts"

export const BackupMaintenanceRpcsLive = BackupMaintenanceRpcs.toLayer(Effect.gen(function*() {
  const ops = yield* Operations
  const audit = yield* AuditLog
  const maintenance = yield* ShardMaintenance
  const retention = yield* BackupRetention
  const caller = Effect.map(CurrentUser, (u) => u.userId)
  return BackupMaintenanceRpcs.of({
    BackupScrub: () =>
      Effect.gen(function*() {
        const userId = yield* caller
        yield* ops.requireAdmin(userId, "scrub the backup shards")
        const shards = yield* maintenance.scrub
        const manifests = yield* Effect.catchAll(retention.scrubManifests, (e) =>
          Effect.zipRight(Effect.logError("backup manifest scrub failed", e), Effect.fail(new ServiceUnavailable({ reason: "backup catalog unavailable" }))))
        const report = { ...shards, manifests: Option.getOrNull(manifests) }
        yield* audit.record({
          actor: userId,
          action: "admin.backup_scrub",
          details: { copiesChecked: shards.copiesChecked, corrupt: shards.corrupt.length, lost: shards.lost.length, manifestProblems: report.manifests?.problems.length ?? null }
        })
        return report
      }),
    BackupRepair: () =>
      Effect.gen(function*() {
        const userId = yield* caller
        yield* ops.requireAdmin(userId, "repair the backup shards")
        const report = yield* maintenance.repair
        yield* audit.record({ actor: userId, action: "admin.backup_repair", details: { underReplicated: report.underReplicated, copied: report.copied, lost: report.lost.length } })
        return report
      })
  })
}))
