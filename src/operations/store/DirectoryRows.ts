/**
 * The administrator's listings: accounts (with MFA and open sessions) and
 * channels (with member counts), paged by a cursor; and the insert of an
 * account created by an administrator (no session), under the registration
 * lock (AccountRows.ts) so that uniqueness is checked against every insert.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { WorkspaceRole } from "../../../domain/Auth.ts"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"
import type { AccountSummary, ChannelSummary } from "../../../domain/Operations.ts"
import { REGISTRATION_LOCK } from "../../auth/store/AccountRows.ts"

interface AccountRow {
  readonly user_id: string
  readonly username: string
  readonly email: string | null
  readonly role: WorkspaceRole
  readonly disabled_at: string | null
  readonly mfa: boolean
  readonly active_sessions: string
  readonly created_at: string
}

const toSummary = (row: AccountRow): AccountSummary => ({
  userId: row.user_id as UserId,
  username: row.username,
  email: row.email,
  role: row.role,
  disabled: row.disabled_at !== null,
  mfa: row.mfa,
  activeSessions: Number(row.active_sessions),
  createdAt: Number(row.created_at)
})

const accountColumns = (sql: SqlClient.SqlClient, now: number) =>
  sql`a.user_id, a.username, a.email, a.role, a.disabled_at, a.created_at,
    (EXISTS (SELECT 1 FROM plexi_mfa_totp t WHERE t.user_id = a.user_id AND t.confirmed_at IS NOT NULL)
      OR EXISTS (SELECT 1 FROM plexi_webauthn_credentials w WHERE w.user_id = a.user_id)) AS mfa,
    (SELECT count(*) FROM plexi_sessions s WHERE s.user_id = a.user_id AND s.revoked_at IS NULL AND s.expires_at > ${now}) AS active_sessions`

export const listAccounts = (sql: SqlClient.SqlClient) => (after: string | undefined, limit: number, now: number) =>
  Effect.map(
    sql<AccountRow>`SELECT ${accountColumns(sql, now)} FROM plexi_accounts a
      WHERE ${after === undefined ? sql`TRUE` : sql`lower(a.username) > lower(${after})`}
      ORDER BY lower(a.username) LIMIT ${limit}`,
    (rows) => rows.map(toSummary)
  )

export const accountSummary = (sql: SqlClient.SqlClient) => (userId: UserId, now: number) =>
  Effect.map(
    sql<AccountRow>`SELECT ${accountColumns(sql, now)} FROM plexi_accounts a WHERE a.user_id = ${userId}`,
    (rows) => rows.map(toSummary)[0]
  )

export interface CreatedAccount {
  readonly userId: UserId
  readonly username: string
  readonly email: string | undefined
  readonly passwordHash: string
  readonly role: WorkspaceRole
  readonly now: number
}

export type Creation = { readonly _tag: "Created" } | { readonly _tag: "UsernameTaken" } | { readonly _tag: "EmailTaken" }

/** Inserts the account and its profile in one transaction; a taken username or email inserts nothing. */
export const createAccount = (sql: SqlClient.SqlClient) => (account: CreatedAccount): Effect.Effect<Creation, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    yield* sql`SELECT pg_advisory_xact_lock(${REGISTRATION_LOCK[0]}, ${REGISTRATION_LOCK[1]})`
    const taken = yield* sql`SELECT 1 FROM plexi_accounts WHERE lower(username) = lower(${account.username}) LIMIT 1`
    if (taken.length > 0) return { _tag: "UsernameTaken" } as const
    if (account.email !== undefined) {
      const mailTaken = yield* sql`SELECT 1 FROM plexi_accounts WHERE lower(email) = lower(${account.email}) LIMIT 1`
      if (mailTaken.length > 0) return { _tag: "EmailTaken" } as const
    }
    yield* sql`INSERT INTO plexi_accounts (user_id, username, email, password_hash, role, created_at, password_changed_at)
      VALUES (${account.userId}, ${account.username}, ${account.email ?? null}, ${account.passwordHash}, ${account.role},
        ${account.now}, ${account.now})`
    yield* sql`INSERT INTO plexi_users (id, display_name, created_at) VALUES (${account.userId}, ${account.username}, ${account.now})
      ON CONFLICT (id) DO NOTHING`
    return { _tag: "Created" } as const
  }))

interface ChannelRow {
  readonly id: string
  readonly name: string
  readonly visibility: "public" | "private"
  readonly members: string
  readonly created_by: string
  readonly created_at: string
}

export const listChannels = (sql: SqlClient.SqlClient) => (after: ChannelId | undefined, limit: number) =>
  Effect.map(
    sql<ChannelRow>`SELECT c.id, c.name, c.visibility, c.created_by, c.created_at,
        (SELECT count(*) FROM plexi_channel_members m WHERE m.channel_id = c.id) AS members
      FROM plexi_channels c WHERE ${after === undefined ? sql`TRUE` : sql`c.id > ${after}`}
      ORDER BY c.id LIMIT ${limit}`,
    (rows) =>
      rows.map((row): ChannelSummary => ({
        channelId: row.id as ChannelId,
        name: row.name,
        visibility: row.visibility,
        members: Number(row.members),
        createdBy: row.created_by,
        createdAt: Number(row.created_at)
      }))
  )
