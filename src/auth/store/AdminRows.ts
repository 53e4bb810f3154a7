/**
 * Account administration statements: disable, enable, password reset and
 * MFA reset of another account. Each runs in one transaction that first locks the
 * caller's row, the target's and every enabled owner's, then checks the
 * rules (AdminPolicy.ts) on what it locked: two owners disabling each other
 * at once take turns, and the second finds itself disabled.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { WorkspaceRole } from "../../../domain/Auth.ts"
import type { UserId } from "../../../domain/Ids.ts"
import { type AdminAction, type Party, type Refusal, refusal } from "../AdminPolicy.ts"
import { recordAccountEvent } from "./RevocationRows.ts"
import { revokeWhere } from "./SessionRows.ts"

/** What an administration statement did: the sessions it ended, or why it refused. */
export type AdminOutcome = { readonly _tag: "Done"; readonly revoked: number } | Refusal

/** How long account events stay in `plexi_revocations` for the nodes to read (a node starting later reads `plexi_accounts`). */
export const ACCOUNT_EVENT_RETENTION_MS = 24 * 60 * 60 * 1000

interface PartyRow {
  readonly user_id: string
  readonly role: WorkspaceRole
  readonly disabled_at: string | null
}

/** Locks the parties and the enabled owners, and checks the rules; the target's row when allowed. */
const authorize = (sql: SqlClient.SqlClient, actorId: UserId, targetId: UserId, action: AdminAction) =>
  Effect.map(
    sql<PartyRow>`SELECT user_id, role, disabled_at FROM plexi_accounts
      WHERE user_id = ${actorId} OR user_id = ${targetId} OR (role = 'owner' AND disabled_at IS NULL)
      ORDER BY user_id FOR UPDATE`,
    (rows) => {
      const parties = rows.map((row): Party => ({ userId: row.user_id as UserId, role: row.role, disabled: row.disabled_at !== null }))
      const enabledOwners = parties.filter((p) => p.role === "owner" && !p.disabled).length
      return refusal(parties.find((p) => p.userId === actorId), parties.find((p) => p.userId === targetId), action, enabledOwners)
    }
  )

/** Reads whether `actorId` may do `action` to `targetId`, without locking (a check before costly work). */
export const precheck = (sql: SqlClient.SqlClient) => (actorId: UserId, targetId: UserId, action: AdminAction) =>
  Effect.map(
    sql<PartyRow & { readonly username: string; readonly owners: string }>`SELECT user_id, role, disabled_at, username,
        (SELECT count(*) FROM plexi_accounts WHERE role = 'owner' AND disabled_at IS NULL) AS owners
      FROM plexi_accounts WHERE user_id = ${actorId} OR user_id = ${targetId}`,
    (rows) => {
      const parties = rows.map((row): Party => ({ userId: row.user_id as UserId, role: row.role, disabled: row.disabled_at !== null }))
      const refused = refusal(
        parties.find((p) => p.userId === actorId),
        parties.find((p) => p.userId === targetId),
        action,
        Number(rows[0]?.owners ?? 0)
      )
      return refused ?? { _tag: "Allowed" as const, username: rows.find((r) => r.user_id === targetId)!.username }
    }
  )

const within = (
  sql: SqlClient.SqlClient,
  actorId: UserId,
  targetId: UserId,
  action: AdminAction,
  body: Effect.Effect<AdminOutcome, SqlError>
): Effect.Effect<AdminOutcome, SqlError> =>
  sql.withTransaction(
    Effect.flatMap(authorize(sql, actorId, targetId, action), (refused): Effect.Effect<AdminOutcome, SqlError> =>
      refused === undefined ? body : Effect.succeed(refused))
  )

/** Disables the account and ends all its sessions (`account_disabled`); already disabled: nothing changes. */
export const disable = (sql: SqlClient.SqlClient, windowMs: number) =>
(actorId: UserId, targetId: UserId, now: number): Effect.Effect<AdminOutcome, SqlError> =>
  within(
    sql,
    actorId,
    targetId,
    "disable",
    Effect.gen(function*() {
      const changed = yield* sql<{ user_id: string }>`UPDATE plexi_accounts SET disabled_at = ${now}, disabled_by = ${actorId}
        WHERE user_id = ${targetId} AND disabled_at IS NULL RETURNING user_id`
      if (changed.length === 0) return { _tag: "Done", revoked: 0 } as const
      yield* recordAccountEvent(sql, "user_disabled", targetId, now, ACCOUNT_EVENT_RETENTION_MS)
      const revoked = yield* revokeWhere(sql, sql`user_id = ${targetId}`, now, "account_disabled", windowMs)
      return { _tag: "Done", revoked } as const
    })
  )

/** Enables a disabled account (its ended sessions stay ended); already enabled: nothing changes. */
export const enable = (sql: SqlClient.SqlClient) => (actorId: UserId, targetId: UserId, now: number): Effect.Effect<AdminOutcome, SqlError> =>
  within(
    sql,
    actorId,
    targetId,
    "enable",
    Effect.gen(function*() {
      const changed = yield* sql<{ user_id: string }>`UPDATE plexi_accounts SET disabled_at = NULL, disabled_by = NULL
        WHERE user_id = ${targetId} AND disabled_at IS NOT NULL RETURNING user_id`
      if (changed.length > 0) yield* recordAccountEvent(sql, "user_enabled", targetId, now, ACCOUNT_EVENT_RETENTION_MS)
      return { _tag: "Done", revoked: 0 } as const
    })
  )

/** Sets the account's password hash and ends all its sessions (`password_reset`). */
export const resetPassword = (sql: SqlClient.SqlClient, windowMs: number) =>
(actorId: UserId, targetId: UserId, passwordHash: string, now: number): Effect.Effect<AdminOutcome, SqlError> =>
  within(
    sql,
    actorId,
    targetId,
    "password",
    Effect.gen(function*() {
      yield* sql`UPDATE plexi_accounts SET password_hash = ${passwordHash}, password_changed_at = ${now} WHERE user_id = ${targetId}`
      const revoked = yield* revokeWhere(sql, sql`user_id = ${targetId}`, now, "password_reset", windowMs)
      return { _tag: "Done", revoked } as const
    })
  )

/** What an MFA reset removed. */
export interface MfaRemoved {
  readonly totp: boolean
  readonly backupCodes: number
  readonly webauthnKeys: number
}

/** What an MFA reset did: the sessions it ended and the factors it removed, or why it refused. */
export type MfaResetOutcome = { readonly _tag: "Done"; readonly revoked: number; readonly removed: MfaRemoved } | Refusal

const deletedCount = (statement: Effect.Effect<ReadonlyArray<unknown>, SqlError>) =>
  Effect.map(statement, (rows) => rows.length)

/**
 * Removes every second factor of the account (the TOTP row, pending or
 * confirmed, its backup codes, its WebAuthn keys) and its ceremonies under
 * way (sign-in challenges, WebAuthn challenges), and ends all its sessions
 * (`mfa_reset`), in one transaction under the administration locks.
 */
export const resetMfa = (sql: SqlClient.SqlClient, windowMs: number) =>
(actorId: UserId, targetId: UserId, now: number): Effect.Effect<MfaResetOutcome, SqlError> =>
  sql.withTransaction(
    Effect.flatMap(authorize(sql, actorId, targetId, "mfa"), (refused): Effect.Effect<MfaResetOutcome, SqlError> =>
      refused !== undefined ? Effect.succeed(refused) : Effect.gen(function*() {
        const totp = yield* deletedCount(sql`DELETE FROM plexi_mfa_totp WHERE user_id = ${targetId} RETURNING user_id`)
        const backupCodes = yield* deletedCount(sql`DELETE FROM plexi_mfa_backup_codes WHERE user_id = ${targetId} RETURNING user_id`)
        const webauthnKeys = yield* deletedCount(sql`DELETE FROM plexi_webauthn_credentials WHERE user_id = ${targetId} RETURNING id`)
        yield* sql`DELETE FROM plexi_mfa_challenges WHERE user_id = ${targetId}`
        yield* sql`DELETE FROM plexi_webauthn_challenges WHERE user_id = ${targetId}`
        const revoked = yield* revokeWhere(sql, sql`user_id = ${targetId}`, now, "mfa_reset", windowMs)
        return { _tag: "Done", revoked, removed: { totp: totp > 0, backupCodes, webauthnKeys } } as const
      }))
  )
