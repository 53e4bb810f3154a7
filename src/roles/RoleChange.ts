/**
 * Changing a workspace role (`POST /api/v1/admin/users/:userId/role`).
 *
 * Rules, checked against the roles as stored, inside one transaction that
 * role changes take turns on (an advisory lock), so two owners demoting each
 * other at once cannot leave the workspace without one:
 * - only owners and admins change roles;
 * - nobody raises their own role (lowering it is allowed);
 * - only an owner makes an owner or changes an owner's role;
 * - the last owner cannot be demoted.
 * The change and its audit entry commit together; a refusal writes nothing
 * but its (queued) audit entry.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { RoleChanged } from "../../domain/AdminRoles.ts"
import { AccountNotFound } from "../../domain/AdminUsers.ts"
import type { WorkspaceRole } from "../../domain/Auth.ts"
import { Forbidden, ServiceUnavailable } from "../../domain/Errors.ts"
import type { UserId } from "../../domain/Ids.ts"
import { AuditLog } from "../audit/AuditLog.ts"
import { isWorkspaceAdmin, rank, WorkspaceRoles } from "./WorkspaceRoles.ts"

const ROLE_CHANGE_LOCK = [0x706c6578, 7] as const

type Decision =
  | { readonly _tag: "Denied"; readonly reason: string }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Changed"; readonly previous: WorkspaceRole }

/** Why `actor` may not set `target`'s role from `current` to `role`, if it may not. */
export const refusal = (
  actor: { readonly userId: UserId; readonly role: WorkspaceRole },
  target: { readonly userId: UserId; readonly role: WorkspaceRole },
  role: WorkspaceRole,
  owners: number
): string | undefined => {
  if (!isWorkspaceAdmin(actor.role)) return "only workspace owners and admins change roles"
  if (actor.userId === target.userId && rank[role] > rank[target.role]) return "nobody raises their own role"
  if (role === "owner" && actor.role !== "owner") return "only an owner makes an owner"
  if (target.role === "owner" && actor.role !== "owner") return "only an owner changes an owner's role"
  if (target.role === "owner" && role !== "owner" && owners <= 1) return "the last owner cannot be demoted: make another owner first"
  return undefined
}

export class RoleChange extends Effect.Service<RoleChange>()("plexichat/RoleChange", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const audit = yield* AuditLog
    const roles = yield* WorkspaceRoles

    const roleIn = (userId: UserId) =>
      Effect.map(sql<{ role: WorkspaceRole }>`SELECT role FROM plexi_accounts WHERE user_id = ${userId}`, (rows) => rows[0]?.role)

    const decide = (actorId: UserId, targetId: UserId, role: WorkspaceRole) =>
      sql.withTransaction(Effect.gen(function*() {
        yield* sql`SELECT pg_advisory_xact_lock(${ROLE_CHANGE_LOCK[0]}, ${ROLE_CHANGE_LOCK[1]})`
        const actorRole = yield* roleIn(actorId)
        // A caller who may not change roles learns nothing about other accounts (not even whether they exist).
        if (actorRole === undefined || !isWorkspaceAdmin(actorRole)) {
          return { _tag: "Denied", reason: "only workspace owners and admins change roles" } satisfies Decision
        }
        const targetRole = yield* roleIn(targetId)
        if (targetRole === undefined) return { _tag: "Missing" } satisfies Decision
        const owners = Number((yield* sql<{ n: string }>`SELECT count(*) AS n FROM plexi_accounts WHERE role = 'owner'`)[0]!.n)
        const reason = refusal({ userId: actorId, role: actorRole }, { userId: targetId, role: targetRole }, role, owners)
        if (reason !== undefined) return { _tag: "Denied", reason } satisfies Decision
        if (targetRole !== role) yield* sql`UPDATE plexi_accounts SET role = ${role} WHERE user_id = ${targetId}`
        yield* audit.appendIn([{
          actor: actorId,
          action: "admin.role_changed",
          target: targetId,
          details: { from: targetRole, to: role }
        }])
        return { _tag: "Changed", previous: targetRole } satisfies Decision
      }))

    const setRole = (actorId: UserId, targetId: UserId, role: WorkspaceRole): Effect.Effect<RoleChanged, Forbidden | AccountNotFound | ServiceUnavailable> =>
      decide(actorId, targetId, role).pipe(
        Effect.catchTag("SqlError", (error) =>
          Effect.zipRight(Effect.logError("role change failed", error), Effect.fail(new ServiceUnavailable({ reason: "account store unavailable" })))),
        Effect.flatMap((decision): Effect.Effect<RoleChanged, Forbidden | AccountNotFound> => {
          switch (decision._tag) {
            case "Denied":
              return Effect.zipRight(
                audit.record({ actor: actorId, action: "admin.role.denied", target: targetId, details: { role, reason: decision.reason } }),
                Effect.fail(new Forbidden({ message: decision.reason }))
              )
            case "Missing":
              return Effect.fail(new AccountNotFound({ userId: targetId }))
            case "Changed":
              return Effect.as(roles.forget(targetId), { userId: targetId, role, previous: decision.previous })
          }
        })
      )

    /** Whether `userId` may read the audit log (a workspace owner or admin, as stored now); a refusal is audited. */
    const requireAuditReader = (userId: UserId, ip?: string) =>
      Effect.flatMap(
        roleIn(userId).pipe(
          Effect.catchTag("SqlError", () => Effect.fail(new ServiceUnavailable({ reason: "account store unavailable" })))
        ),
        (role) =>
          role !== undefined && isWorkspaceAdmin(role)
            ? Effect.void
            : Effect.zipRight(
              audit.record({ actor: userId, action: "admin.audit.denied", ip, details: { reason: "not an owner or admin" } }),
              Effect.fail(new Forbidden({ message: "only workspace owners and admins read the audit log" }))
            )
      )

    return { setRole, requireAuditReader } as const
  })
}) {}
