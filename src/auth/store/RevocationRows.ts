/**
 * Statements on `plexi_revocations`, the table every node polls to learn of
 * ended sessions and disabled accounts (src/auth/Revocations.ts). Rows are
 * written by the statements that end sessions (SessionRows.ts) and by
 * account disabling (AdminRows.ts), in the same statement or transaction.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { SessionId, UserId } from "../../../domain/Ids.ts"
import type { RevocationRow } from "../RevocationSet.ts"

interface Row {
  readonly seq: string
  readonly kind: RevocationRow["kind"]
  readonly user_id: string
  readonly session_id: string | null
  readonly until: string
}

const toRow = (row: Row): RevocationRow => ({
  seq: Number(row.seq),
  kind: row.kind,
  userId: row.user_id as UserId,
  sessionId: row.session_id as SessionId | null,
  until: Number(row.until)
})

/** How many rows one poll reads at most; a full page is followed at once by the next. */
export const PAGE = 1000

/** The rows after `position`, in seq order. */
export const after = (sql: SqlClient.SqlClient) => (position: number): Effect.Effect<Array<RevocationRow>, SqlError> =>
  Effect.map(
    sql<Row>`SELECT seq, kind, user_id, session_id, until FROM plexi_revocations
      WHERE seq > ${position} ORDER BY seq LIMIT ${PAGE}`,
    (rows) => rows.map(toRow)
  )

/**
 * Where a starting node begins to poll: just before the rows recorded in the
 * last `recentMs` (their transactions may still be committing around them),
 * or after the last row.
 */
export const startPosition = (sql: SqlClient.SqlClient) => (now: number, recentMs: number): Effect.Effect<number, SqlError> =>
  Effect.map(
    sql<{ start: string }>`SELECT COALESCE(
        (SELECT min(seq) - 1 FROM plexi_revocations WHERE recorded_at > ${now - recentMs}),
        (SELECT max(seq) FROM plexi_revocations),
        0) AS start`,
    (rows) => Number(rows[0]!.start)
  )

/** Ended sessions up to `position` whose access tokens may still be alive (a starting node loads them). */
export const liveSessions = (sql: SqlClient.SqlClient) => (position: number, now: number): Effect.Effect<Array<RevocationRow>, SqlError> =>
  Effect.map(
    sql<Row>`SELECT seq, kind, user_id, session_id, until FROM plexi_revocations
      WHERE kind = 'session' AND seq <= ${position} AND until > ${now} ORDER BY seq`,
    (rows) => rows.map(toRow)
  )

/** The accounts disabled now. */
export const disabledUsers = (sql: SqlClient.SqlClient): Effect.Effect<Array<UserId>, SqlError> =>
  Effect.map(
    sql<{ user_id: string }>`SELECT user_id FROM plexi_accounts WHERE disabled_at IS NOT NULL`,
    (rows) => rows.map((row) => row.user_id as UserId)
  )

/** Deletes rows no node needs any more. */
export const purge = (sql: SqlClient.SqlClient) => (before: number): Effect.Effect<void, SqlError> =>
  Effect.asVoid(sql`DELETE FROM plexi_revocations WHERE until < ${before}`)

/** Records an account event (`user_disabled`, `user_enabled`), kept `retainMs` for the nodes to read. */
export const recordAccountEvent = (
  sql: SqlClient.SqlClient,
  kind: "user_disabled" | "user_enabled",
  userId: UserId,
  now: number,
  retainMs: number
) =>
  sql`INSERT INTO plexi_revocations (kind, user_id, session_id, recorded_at, until)
    VALUES (${kind}, ${userId}, NULL, ${now}, ${now + retainMs})`
