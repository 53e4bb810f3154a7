/**
 * The check of every operation of the admin CLI's RPCs: the caller must be
 * a workspace owner or admin as stored now (never a token claim). A refusal
 * is audited (`admin.ops.denied`, naming the operation) and answered
 * `Forbidden`; a store failure `ServiceUnavailable`.
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { WorkspaceRole } from "../../domain/Auth.ts"
import { Forbidden, ServiceUnavailable } from "../../domain/Errors.ts"
import type { UserId } from "../../domain/Ids.ts"
import type { AuditLog } from "../audit/AuditLog.ts"
import { isWorkspaceAdmin } from "../roles/WorkspaceRoles.ts"

/** Store failures of an operation: logged, answered `ServiceUnavailable` (the caller may retry). */
export const unavailable = (what: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchIf(
    effect,
    (error): error is Extract<E, { readonly _tag: "SqlError" }> =>
      typeof error === "object" && error !== null && "_tag" in error && error._tag === "SqlError",
    (error) => Effect.zipRight(Effect.logError(`${what} failed`, error), Effect.fail(new ServiceUnavailable({ reason: `${what} unavailable` })))
  )

export const makeAdminGate = (sql: SqlClient.SqlClient, audit: AuditLog["Type"]) =>
(userId: UserId, operation: string): Effect.Effect<WorkspaceRole, Forbidden | ServiceUnavailable> =>
  sql<{ role: WorkspaceRole }>`SELECT role FROM plexi_accounts WHERE user_id = ${userId} AND disabled_at IS NULL`.pipe(
    unavailable("account store"),
    Effect.flatMap((rows) => {
      const role = rows[0]?.role
      return role !== undefined && isWorkspaceAdmin(role)
        ? Effect.succeed(role)
        : Effect.zipRight(
          audit.record({ actor: userId, action: "admin.ops.denied", details: { operation, reason: "not an owner or admin" } }),
          Effect.fail(new Forbidden({ message: `only workspace owners and admins may ${operation}` }))
        )
    })
  )
