/**
 * Handlers of the backup RPCs (domain/BackupRpcs.ts): each checks the caller's stored role first (owners and
 * admins; a refusal is audited `admin.ops.denied`), store failures answer `ServiceUnavailable`; a start and a
 * cancellation are audited (`admin.backup_started`, `admin.backup_cancelled`).
 */
import { Effect, Stream } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import { BackupRpcs } from "../../domain/BackupRpcs.ts"
import { AuditLog } from "../audit/AuditLog.ts"
import * as Catalog from "../backup/job/BackupCatalog.ts"
import { cancelBackup, followBackup, startBackup } from "../backup/job/BackupControl.ts"
import { jobView } from "../backup/job/JobView.ts"
import { unavailable } from "../operations/AdminGate.ts"
import { Operations } from "../operations/Operations.ts"

const store = unavailable("backup catalog")

export const BackupRpcsLive = BackupRpcs.toLayer(Effect.gen(function*() {
  const ops = yield* Operations
  const audit = yield* AuditLog
  const context = yield* Effect.context<Effect.Effect.Context<ReturnType<typeof startBackup>> | Effect.Effect.Context<ReturnType<typeof cancelBackup>>>()
  const admin = (operation: string) => Effect.flatMap(CurrentUser, (u) => Effect.as(ops.requireAdmin(u.userId, operation), u.userId))
  return BackupRpcs.of({
    StartBackup: ({ kind }) =>
      Effect.gen(function*() {
        const actor = yield* admin("start a backup")
        const view = yield* store(startBackup(kind))
        yield* audit.record({ actor, action: "admin.backup_started", target: view.backupId, details: { kind } })
        return view
      }).pipe(Effect.provide(context)),
    BackupStatus: ({ backupId }) => Effect.zipRight(admin("read a backup's status"), store(jobView(backupId))).pipe(Effect.provide(context)),
    FollowBackup: ({ backupId }) =>
      Stream.unwrap(Effect.as(admin("follow a backup"), followBackup(backupId))).pipe(
        Stream.catchTag("SqlError", (e) => Stream.fromEffect(store(Effect.fail(e)))),
        Stream.provideSomeContext(context)
      ),
    CancelBackup: ({ backupId }) =>
      Effect.gen(function*() {
        const actor = yield* admin("cancel a backup")
        const view = yield* store(cancelBackup(backupId))
        yield* audit.record({ actor, action: "admin.backup_cancelled", target: backupId, details: { state: view.state } })
        return view
      }).pipe(Effect.provide(context)),
    ListBackups: () => Effect.zipRight(admin("list backups"), store(Catalog.list)).pipe(Effect.provide(context))
  })
}))
