/**
 * Account statements (`plexi_accounts`). Usernames and emails are unique
 * without regard to case (unique indexes on `lower(...)`).
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { WorkspaceRole } from "../../../domain/Auth.ts"
import type { UserId } from "../../../domain/Ids.ts"
import { insertSession, type NewSession } from "./SessionRows.ts"

export interface StoredAccount {
  readonly userId: UserId
  readonly username: string
  readonly passwordHash: string
  readonly role: WorkspaceRole
  /** Disabled by an owner or admin: no sign-in, no refresh. */
  readonly disabled: boolean
}

export interface NewAccount {
  readonly userId: UserId
  readonly username: string
  readonly email: Option.Option<string>
  readonly passwordHash: string
  readonly now: number
}

/** What a registration did: created the account (with its first session), or why not. */
export type Registration =
  | { readonly _tag: "Registered"; readonly role: WorkspaceRole }
  | { readonly _tag: "UsernameTaken" }
  | { readonly _tag: "EmailTaken" }
  | { readonly _tag: "NotFirst" }

/**
 * Registrations take turns on this transaction-level advisory lock (the
 * two-key form, so it cannot meet the single-key locks of migrations and
 * shards): "is this the first account?" and the INSERT then see the same
 * table, so an empty installation gets exactly one owner.
 */
export const REGISTRATION_LOCK = [0x706c6578, 1] as const

interface AccountRow {
  readonly user_id: string
  readonly username: string
  readonly password_hash: string
  readonly role: WorkspaceRole
  readonly disabled_at: string | null
}

const toAccount = (row: AccountRow): StoredAccount => ({
  userId: row.user_id as UserId,
  username: row.username,
  passwordHash: row.password_hash,
  role: row.role,
  disabled: row.disabled_at !== null
})

export const findByUsername = (sql: SqlClient.SqlClient) => (username: string): Effect.Effect<Option.Option<StoredAccount>, SqlError> =>
  Effect.map(
    sql<AccountRow>`SELECT user_id, username, password_hash, role, disabled_at FROM plexi_accounts WHERE lower(username) = lower(${username})`,
    (rows) => Option.map(Option.fromNullable(rows[0]), toAccount)
  )

export const findByUserId = (sql: SqlClient.SqlClient) => (userId: UserId): Effect.Effect<Option.Option<StoredAccount>, SqlError> =>
  Effect.map(
    sql<AccountRow>`SELECT user_id, username, password_hash, role, disabled_at FROM plexi_accounts WHERE user_id = ${userId}`,
    (rows) => Option.map(Option.fromNullable(rows[0]), toAccount)
  )

/**
 * Creates the account, its user profile and its first session in one
 * transaction, with `also` (e.g. a linked identity) in the same
 * transaction. The profile row is written here because the user id is new:
 * no User entity holds it yet (it loads the row on first use).
 */
export const register = (sql: SqlClient.SqlClient) =>
(
  account: NewAccount,
  session: NewSession,
  onlyFirst: boolean,
  also: Effect.Effect<unknown, SqlError> = Effect.void
): Effect.Effect<Registration, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    yield* sql`SELECT pg_advisory_xact_lock(${REGISTRATION_LOCK[0]}, ${REGISTRATION_LOCK[1]})`
    const existing = yield* sql<{ has_accounts: boolean }>`SELECT EXISTS (SELECT 1 FROM plexi_accounts) AS has_accounts`
    const first = !existing[0]!.has_accounts
    if (!first && onlyFirst) return { _tag: "NotFirst" } as const
    const taken = yield* sql<{ id: string }>`
      SELECT user_id AS id FROM plexi_accounts WHERE lower(username) = lower(${account.username}) LIMIT 1`
    if (taken.length > 0) return { _tag: "UsernameTaken" } as const
    if (Option.isSome(account.email)) {
      const mailTaken = yield* sql<{ id: string }>`
        SELECT user_id AS id FROM plexi_accounts WHERE lower(email) = lower(${account.email.value}) LIMIT 1`
      if (mailTaken.length > 0) return { _tag: "EmailTaken" } as const
    }
    const role: WorkspaceRole = first ? "owner" : "member"
    yield* sql`INSERT INTO plexi_accounts (user_id, username, email, password_hash, role, created_at, password_changed_at)
      VALUES (${account.userId}, ${account.username}, ${Option.getOrNull(account.email)}, ${account.passwordHash}, ${role},
        ${account.now}, ${account.now})`
    yield* sql`INSERT INTO plexi_users (id, display_name, created_at) VALUES (${account.userId}, ${account.username}, ${account.now})
      ON CONFLICT (id) DO NOTHING`
    yield* insertSession(sql, session)
    yield* also
    return { _tag: "Registered", role } as const
  }))

export const updatePasswordHash = (sql: SqlClient.SqlClient) => (userId: UserId, passwordHash: string, now: number) =>
  sql`UPDATE plexi_accounts SET password_hash = ${passwordHash}, password_changed_at = ${now} WHERE user_id = ${userId}`.pipe(
    Effect.asVoid
  )

/**
 * Sets the password of an account that has none (its hash is `noPassword`),
 * in one conditional UPDATE: false when the account has a password (or is
 * gone), so of two first passwords set at once exactly one wins.
 */
export const setFirstPassword = (sql: SqlClient.SqlClient) =>
(userId: UserId, passwordHash: string, noPassword: string, now: number): Effect.Effect<boolean, SqlError> =>
  Effect.map(
    sql<{ user_id: string }>`UPDATE plexi_accounts SET password_hash = ${passwordHash}, password_changed_at = ${now}
      WHERE user_id = ${userId} AND password_hash = ${noPassword} RETURNING user_id`,
    (rows) => rows.length === 1
  )
