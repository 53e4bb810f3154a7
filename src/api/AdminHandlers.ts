/**
 * REST handlers of the admin operations: workspace role changes
 * (`adminRoles`) and the audit log (`audit`), both for workspace owners and
 * admins (checked against the stored role, not a token claim).
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import type { AuditQuery } from "../../domain/Audit.ts"
import { ServiceUnavailable } from "../../domain/Errors.ts"
import { PlexiHttpApi } from "../../domain/Http.ts"
import type { UserId } from "../../domain/Ids.ts"
import { AuditLog } from "../audit/AuditLog.ts"
import { RoleChange } from "../roles/RoleChange.ts"

export const AdminRolesLive = HttpApiBuilder.group(PlexiHttpApi, "adminRoles", (handlers) =>
  Effect.map(RoleChange, (roles) =>
    handlers.handle("setRole", ({ path, payload }) =>
      Effect.flatMap(CurrentUser, (caller) => roles.setRole(caller.userId, path.userId, payload.role)))))

/** The audit query of every door: the caller must be a workspace owner or admin. */
export const auditQuery = (roles: RoleChange, audit: AuditLog["Type"]) => (userId: UserId, q: AuditQuery, ip?: string) =>
  Effect.zipRight(
    roles.requireAuditReader(userId, ip),
    audit.query(q).pipe(
      Effect.catchTag("SqlError", (error) =>
        Effect.zipRight(Effect.logError("audit query failed", error), Effect.fail(new ServiceUnavailable({ reason: "audit log unavailable" }))))
    )
  )

export const AuditLive = HttpApiBuilder.group(PlexiHttpApi, "audit", (handlers) =>
  Effect.gen(function*() {
    const query = auditQuery(yield* RoleChange, yield* AuditLog)
    return handlers.handle("query", ({ urlParams }) => Effect.flatMap(CurrentUser, (caller) => query(caller.userId, urlParams)))
  }))
