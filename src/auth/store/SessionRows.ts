/**
 * Session statements (`plexi_sessions`, one row per signed-in device, and
 * `plexi_refresh_tokens`, the SHA-256 of every refresh token a session was
 * given). A refresh token is single-use: refreshing marks it used and
 * stores its successor; a used token presented again revokes its session.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import { Effect } from "effect"
import type { SessionInfo } from "../../../domain/Auth.ts"
import { AccountDisabled } from "../../../domain/AuthErrors.ts"
import type { SessionId, UserId } from "../../../domain/Ids.ts"

/** Where a session was opened or last refreshed from. */
export interface Device {
  readonly deviceName: string
  readonly userAgent: string
  readonly ip: string
}

export interface NewSession extends Device {
  readonly id: SessionId
  readonly userId: UserId
  readonly refreshHash: string
  readonly now: number
  readonly expiresAt: number
}

export const accountDisabled = () => new AccountDisabled({ message: "this account is disabled; ask a workspace owner or admin" })

export const insertSession = (sql: SqlClient.SqlClient, s: NewSession) =>
  Effect.zipRight(
    sql`INSERT INTO plexi_sessions (id, user_id, device_name, user_agent, ip, created_at, last_seen_at, expires_at)
      VALUES (${s.id}, ${s.userId}, ${s.deviceName}, ${s.userAgent}, ${s.ip}, ${s.now}, ${s.now}, ${s.expiresAt})`,
    sql`INSERT INTO plexi_refresh_tokens (token_hash, session_id, created_at, expires_at)
      VALUES (${s.refreshHash}, ${s.id}, ${s.now}, ${s.expiresAt})`
  )

/**
 * Opens a session, or fails with `AccountDisabled` (writing nothing) when
 * the account is disabled. The account row is share-locked: a disable
 * running at the same time either waits for this session and then ends it,
 * or commits first and this finds it disabled. Every way of signing in goes
 * through here, so none can open a session for a disabled account.
 */
export const createSession = (sql: SqlClient.SqlClient) => (s: NewSession): Effect.Effect<void, SqlError | AccountDisabled> =>
  sql.withTransaction(Effect.flatMap(insertSessionIfEnabled(sql, s), (opened) => opened ? Effect.void : Effect.fail(accountDisabled())))

/**
 * `createSession`'s statements for a transaction the caller holds (the MFA
 * second step): the session when the account is enabled (`true`), else
 * nothing (`false`), under the same share lock.
 */
export const insertSessionIfEnabled = (sql: SqlClient.SqlClient, s: NewSession): Effect.Effect<boolean, SqlError> =>
  Effect.gen(function*() {
    const enabled = yield* sql<{ user_id: string }>`
      SELECT user_id FROM plexi_accounts WHERE user_id = ${s.userId} AND disabled_at IS NULL FOR SHARE`
    if (enabled.length === 0) return false
    yield* insertSession(sql, s)
    return true
  })

/** What a refresh found. */
export type Refresh =
  | { readonly _tag: "Refreshed"; readonly userId: UserId; readonly sessionId: SessionId }
  | { readonly _tag: "Unknown" }
  | { readonly _tag: "Expired" }
  | { readonly _tag: "Revoked" }
  /** The account is disabled (its sessions were ended when it was). */
  | { readonly _tag: "Disabled" }
  /** The token had been used before: the session is now revoked. */
  | { readonly _tag: "Reused"; readonly sessionId: SessionId }

export interface Rotation extends Device {
  readonly presentedHash: string
  readonly nextHash: string
  readonly now: number
  readonly expiresAt: number
}

interface TokenRow {
  readonly session_id: string
  readonly user_id: string
  readonly used_at: string | null
  readonly expires_at: string
  readonly revoked_at: string | null
  readonly disabled_at: string | null
}

/**
 * Rotates a refresh token. The token's and its session's rows are locked,
 * so of two refreshes with the same token one rotates and the other finds
 * it used (and revokes the session, as for any reuse). A reuse commits its
 * revocation: the answer is a value, not a failure that would roll it back.
 */
export const rotate = (sql: SqlClient.SqlClient, windowMs: number) => (r: Rotation): Effect.Effect<Refresh, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    const rows = yield* sql<TokenRow>`
      SELECT t.session_id, s.user_id, t.used_at, t.expires_at, s.revoked_at, a.disabled_at
      FROM plexi_refresh_tokens t JOIN plexi_sessions s ON s.id = t.session_id JOIN plexi_accounts a ON a.user_id = s.user_id
      WHERE t.token_hash = ${r.presentedHash}
      FOR UPDATE OF t, s`
    const row = rows[0]
    if (row === undefined) return { _tag: "Unknown" } as const
    const sessionId = row.session_id as SessionId
    if (row.disabled_at !== null) return { _tag: "Disabled" } as const
    if (row.revoked_at !== null) return { _tag: "Revoked" } as const
    if (row.used_at !== null) {
      yield* revokeWhere(sql, sql`id = ${sessionId}`, r.now, "refresh_token_reused", windowMs)
      return { _tag: "Reused", sessionId } as const
    }
    if (Number(row.expires_at) <= r.now) return { _tag: "Expired" } as const
    yield* sql`UPDATE plexi_refresh_tokens SET used_at = ${r.now} WHERE token_hash = ${r.presentedHash}`
    yield* sql`INSERT INTO plexi_refresh_tokens (token_hash, session_id, created_at, expires_at)
      VALUES (${r.nextHash}, ${sessionId}, ${r.now}, ${r.expiresAt})`
    // Used tokens are kept for reuse detection only while they could still have been valid.
    yield* sql`DELETE FROM plexi_refresh_tokens WHERE session_id = ${sessionId} AND expires_at < ${r.now}`
    yield* sql`UPDATE plexi_sessions SET last_seen_at = ${r.now}, expires_at = ${r.expiresAt}, user_agent = ${r.userAgent},
      ip = ${r.ip} WHERE id = ${sessionId}`
    return { _tag: "Refreshed", userId: row.user_id as UserId, sessionId } as const
  }))

/**
 * Ends the active sessions `where` holds, and in the same statement records
 * in `plexi_revocations` those whose access tokens may still be alive (one
 * was issued within `windowMs`, the access-token lifetime plus a margin), so
 * that every node refuses those tokens and closes their sockets. Answers the
 * number of sessions ended.
 */
export const revokeWhere = (sql: SqlClient.SqlClient, where: Statement.Fragment, now: number, reason: string, windowMs: number) =>
  Effect.map(
    sql<{ id: string }>`WITH ended AS (
        UPDATE plexi_sessions SET revoked_at = ${now}, revoked_reason = ${reason}
        WHERE ${where} AND revoked_at IS NULL RETURNING id, user_id, last_seen_at
      ), noted AS (
        INSERT INTO plexi_revocations (kind, user_id, session_id, recorded_at, until)
        SELECT 'session', user_id, id, ${now}::bigint, last_seen_at + ${windowMs}::bigint FROM ended
        WHERE last_seen_at + ${windowMs}::bigint > ${now}::bigint
      )
      SELECT id FROM ended`,
    (rows) => rows.length
  )

/** Ends one session of `userId`; 0 when it is not theirs, not active, or unknown. */
export const revokeSession = (sql: SqlClient.SqlClient, windowMs: number) =>
(userId: UserId, sessionId: SessionId, now: number, reason: string) =>
  revokeWhere(sql, sql`id = ${sessionId} AND user_id = ${userId} AND expires_at > ${now}`, now, reason, windowMs)

/** Ends every session of `userId` except `keep` (when given); the number ended. */
export const revokeSessions = (sql: SqlClient.SqlClient, windowMs: number) =>
(userId: UserId, keep: SessionId | undefined, now: number, reason: string) =>
  revokeWhere(
    sql,
    keep === undefined ? sql`user_id = ${userId}` : sql`user_id = ${userId} AND id <> ${keep}`,
    now,
    reason,
    windowMs
  )

interface SessionRow {
  readonly id: string
  readonly device_name: string
  readonly user_agent: string
  readonly ip: string
  readonly created_at: string
  readonly last_seen_at: string
  readonly expires_at: string
}

/** The active sessions of `userId`, newest first. */
export const listSessions = (sql: SqlClient.SqlClient) =>
(userId: UserId, current: SessionId | undefined, now: number): Effect.Effect<Array<SessionInfo>, SqlError> =>
  Effect.map(
    sql<SessionRow>`SELECT id, device_name, user_agent, ip, created_at, last_seen_at, expires_at FROM plexi_sessions
      WHERE user_id = ${userId} AND revoked_at IS NULL AND expires_at > ${now}
      ORDER BY created_at DESC, id LIMIT 1000`,
    (rows) =>
      rows.map((row) => ({
        id: row.id as SessionId,
        deviceName: row.device_name,
        userAgent: row.user_agent,
        ip: row.ip,
        createdAt: Number(row.created_at),
        lastSeenAt: Number(row.last_seen_at),
        expiresAt: Number(row.expires_at),
        current: row.id === current
      }))
  )
