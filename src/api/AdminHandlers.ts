/**
 * REST handlers of the admin operations: workspace role changes
 * (`adminRoles`) and the audit log (`audit`), both for workspace owners and
 * admins (checked against the stored role, not a token claim).
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type { SqlError } from "@effect/sql/SqlError"
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

/** An audit read of every door: the caller must be a workspace owner or admin. */
const auditRead = (roles: RoleChange) => <A>(userId: UserId, read: Effect.Effect<A, SqlError>, ip?: string) =>
  Effect.zipRight(
    roles.requireAuditReader(userId, ip),
    read.pipe(
      Effect.catchTag("SqlError", (error) =>
        Effect.zipRight(Effect.logError("audit query failed", error), Effect.fail(new ServiceUnavailable({ reason: "audit log unavailable" }))))
    )
  )

/** The audit query of every door. */
export const auditQuery = (roles: RoleChange, audit: AuditLog["Type"]) => (userId: UserId, q: AuditQuery, ip?: string) =>
  auditRead(roles)(userId, audit.query(q), ip)

/** The audit chain's head, for every door. */
export const auditHead = (roles: RoleChange, audit: AuditLog["Type"]) => (userId: UserId, ip?: string) =>
  auditRead(roles)(userId, audit.head, ip)

export const AuditLive = HttpApiBuilder.group(PlexiHttpApi, "audit", (handlers) =>
  Effect.gen(function*() {
    const [roles, audit] = [yield* RoleChange, yield* AuditLog]
    const query = auditQuery(roles, audit)
    const head = auditHead(roles, audit)
    return handlers
      .handle("query", ({ urlParams }) => Effect.flatMap(CurrentUser, (caller) => query(caller.userId, urlParams)))
      .handle("head", () => Effect.flatMap(CurrentUser, (caller) => head(caller.userId)))
  }))
