/**
 * The workspace role of a user, as the entities need it (a Channel entity
 * checking a guest or a workspace admin's powers): read from
 * `plexi_accounts` and cached per node for `ttlMs` (2 s by default), so a
 * check costs no database round trip while the entry is fresh. The post path
 * never asks (posting needs channel membership only). A role change is seen
 * at once by the node that made it (`forget`) and within `ttlMs` by every
 * other node. A user id without an account (a TEMPORARY development token's
 * subject) counts as a `member`.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer } from "effect"
import type { WorkspaceRole } from "../../domain/Auth.ts"
import type { UserId } from "../../domain/Ids.ts"

export const ROLE_CACHE_TTL_MS = 2000

/** Entries kept at most; past that the cache starts over (a bound on memory, not a policy). */
const MAX_ENTRIES = 100_000

/** Order of powers: a role may only be given by someone at least as high (see RoleChange.ts). */
export const rank: { readonly [R in WorkspaceRole]: number } = { guest: 0, member: 1, moderator: 2, admin: 3, owner: 4 }

/** Workspace owners and admins: they change roles, read the audit log and act as channel admins in public channels. */
export const isWorkspaceAdmin = (role: WorkspaceRole) => role === "owner" || role === "admin"

export class WorkspaceRoles extends Context.Tag("plexichat/WorkspaceRoles")<WorkspaceRoles, {
  readonly roleOf: (userId: UserId) => Effect.Effect<WorkspaceRole, SqlError>
  /** Drops the cached role of `userId` on this node (after a change). */
  readonly forget: (userId: UserId) => Effect.Effect<void>
}>() {
  static readonly layer = (ttlMs = ROLE_CACHE_TTL_MS) =>
    Layer.effect(WorkspaceRoles, Effect.map(SqlClient.SqlClient, (sql) => {
      const cache = new Map<string, { readonly role: WorkspaceRole; readonly until: number }>()
      const roleOf = (userId: UserId) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const hit = cache.get(userId)
          if (hit !== undefined && hit.until > now) return Effect.succeed(hit.role)
          return Effect.map(sql<{ role: WorkspaceRole }>`SELECT role FROM plexi_accounts WHERE user_id = ${userId}`, (rows) => {
            const role = rows[0]?.role ?? "member"
            if (cache.size >= MAX_ENTRIES) cache.clear()
            cache.set(userId, { role, until: now + ttlMs })
            return role
          })
        })
      return { roleOf, forget: (userId: UserId) => Effect.sync(() => void cache.delete(userId)) }
    }))
}
