/**
 * Multi-factor statements: the TOTP row of an account
 * (`plexi_mfa_totp`), its backup codes (`plexi_mfa_backup_codes`) and the
 * sign-in challenges (`plexi_mfa_challenges`).
 *
 * Every "use" is one conditional UPDATE, so it is atomic on any node of a
 * cluster: of two requests with the same TOTP step or backup code at the
 * same moment, Postgres lets exactly one UPDATE match its row; the other
 * finds the condition false and changes nothing.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { WorkspaceRole } from "../../../domain/Auth.ts"
import type { UserId } from "../../../domain/Ids.ts"

export interface StoredTotp {
  readonly sealed: string
  readonly confirmed: boolean
  readonly lastUsedStep: number | null
}

interface TotpRow {
  readonly secret_sealed: string
  readonly confirmed_at: string | null
  readonly last_used_step: string | null
}

export const findTotp = (sql: SqlClient.SqlClient) => (userId: UserId): Effect.Effect<Option.Option<StoredTotp>, SqlError> =>
  Effect.map(
    sql<TotpRow>`SELECT secret_sealed, confirmed_at, last_used_step FROM plexi_mfa_totp WHERE user_id = ${userId}`,
    (rows) =>
      Option.map(Option.fromNullable(rows[0]), (row) => ({
        sealed: row.secret_sealed,
        confirmed: row.confirmed_at !== null,
        lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step)
      }))
  )

/**
 * Starts (or restarts) a pending enrolment with a new sealed secret; false
 * when TOTP is already confirmed for the account (nothing is changed then).
 */
export const putPendingTotp = (sql: SqlClient.SqlClient) => (userId: UserId, sealed: string, now: number): Effect.Effect<boolean, SqlError> =>
  Effect.map(
    sql<{ user_id: string }>`INSERT INTO plexi_mfa_totp (user_id, secret_sealed, created_at) VALUES (${userId}, ${sealed}, ${now})
      ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, created_at = EXCLUDED.created_at,
        last_used_step = NULL
      WHERE plexi_mfa_totp.confirmed_at IS NULL
      RETURNING user_id`,
    (rows) => rows.length === 1
  )

const insertBackupCodes = (sql: SqlClient.SqlClient, userId: UserId, hashes: ReadonlyArray<string>, now: number) =>
  Effect.zipRight(
    sql`DELETE FROM plexi_mfa_backup_codes WHERE user_id = ${userId}`,
    sql`INSERT INTO plexi_mfa_backup_codes ${sql.insert(hashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now })))}`
  )

/**
 * Confirms the pending enrolment whose sealed secret is `sealed` (the one
 * the code was checked against: a newer enrolment in between is not
 * confirmed by it), records the code's step as used, and stores the first
 * backup codes. False when there was no such pending enrolment.
 */
export const confirmTotp = (sql: SqlClient.SqlClient) =>
(userId: UserId, sealed: string, step: number, backupHashes: ReadonlyArray<string>, now: number): Effect.Effect<boolean, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    const confirmed = yield* sql<{ user_id: string }>`UPDATE plexi_mfa_totp SET confirmed_at = ${now}, last_used_step = ${step}
      WHERE user_id = ${userId} AND confirmed_at IS NULL AND secret_sealed = ${sealed} RETURNING user_id`
    if (confirmed.length === 0) return false
    yield* insertBackupCodes(sql, userId, backupHashes, now)
    return true
  }))

/**
 * Records `step` as the account's last accepted TOTP step, only if it is
 * after the recorded one: false means the step (or a later one) was
 * already used, i.e. a replay. `resealed` replaces the sealed secret (a
 * secret sealed with a key that no longer seals).
 */
export const useTotpStep = (sql: SqlClient.SqlClient) =>
(userId: UserId, step: number, resealed: string | undefined): Effect.Effect<boolean, SqlError> =>
  Effect.map(
    sql<{ user_id: string }>`UPDATE plexi_mfa_totp SET last_used_step = ${step}
      ${resealed === undefined ? sql`` : sql`, secret_sealed = ${resealed}`}
      WHERE user_id = ${userId} AND confirmed_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < ${step})
      RETURNING user_id`,
    (rows) => rows.length === 1
  )

/** What using a backup code did. */
export type BackupCodeUse = "used" | "already_used" | "unknown"

/** Marks the code used if it is an unused code of the account; else tells whether it was one already used. */
export const useBackupCode = (sql: SqlClient.SqlClient) => (userId: UserId, hash: string, now: number): Effect.Effect<BackupCodeUse, SqlError> =>
  Effect.gen(function*() {
    const used = yield* sql<{ user_id: string }>`UPDATE plexi_mfa_backup_codes SET used_at = ${now}
      WHERE user_id = ${userId} AND code_hash = ${hash} AND used_at IS NULL RETURNING user_id`
    if (used.length === 1) return "used" as const
    const known = yield* sql<{ user_id: string }>`SELECT user_id FROM plexi_mfa_backup_codes
      WHERE user_id = ${userId} AND code_hash = ${hash}`
    return known.length === 1 ? "already_used" as const : "unknown" as const
  })

/** Replaces the account's backup codes, only while TOTP is confirmed; false (nothing changed) when it is not. */
export const replaceBackupCodes = (sql: SqlClient.SqlClient) =>
(userId: UserId, hashes: ReadonlyArray<string>, now: number): Effect.Effect<boolean, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    // The row lock orders this against a concurrent disable.
    const on = yield* sql<{ user_id: string }>`SELECT user_id FROM plexi_mfa_totp
      WHERE user_id = ${userId} AND confirmed_at IS NOT NULL FOR UPDATE`
    if (on.length === 0) return false
    yield* insertBackupCodes(sql, userId, hashes, now)
    return true
  }))

/** Turns MFA off: the TOTP row, the backup codes and the open challenges go. */
export const disableMfa = (sql: SqlClient.SqlClient) => (userId: UserId): Effect.Effect<void, SqlError> =>
  sql.withTransaction(Effect.all([
    sql`DELETE FROM plexi_mfa_totp WHERE user_id = ${userId}`,
    sql`DELETE FROM plexi_mfa_backup_codes WHERE user_id = ${userId}`,
    sql`DELETE FROM plexi_mfa_challenges WHERE user_id = ${userId}`
  ], { discard: true }))

export interface MfaFactors {
  readonly totp: "off" | "pending" | "on"
  readonly backupCodesLeft: number
  /** Registered WebAuthn security keys (each one a second factor). */
  readonly webauthnKeys: number
}

export const factors = (sql: SqlClient.SqlClient) => (userId: UserId): Effect.Effect<MfaFactors, SqlError> =>
  Effect.map(
    sql<{ confirmed: boolean | null; left: string | number; keys: string | number }>`SELECT
        (SELECT confirmed_at IS NOT NULL FROM plexi_mfa_totp WHERE user_id = ${userId}) AS confirmed,
        (SELECT count(*) FROM plexi_mfa_backup_codes WHERE user_id = ${userId} AND used_at IS NULL) AS left,
        (SELECT count(*) FROM plexi_webauthn_credentials WHERE user_id = ${userId}) AS keys`,
    (rows) => ({
      totp: rows[0]!.confirmed === null ? "off" as const : rows[0]!.confirmed ? "on" as const : "pending" as const,
      backupCodesLeft: Number(rows[0]!.left),
      webauthnKeys: Number(rows[0]!.keys)
    })
  )

export interface NewChallenge {
  readonly hash: string
  readonly userId: UserId
  readonly deviceName: string
  readonly now: number
  readonly expiresAt: number
}

/** Stores a sign-in challenge; the account's challenges that have expired are deleted on the way. */
export const createChallenge = (sql: SqlClient.SqlClient) => (c: NewChallenge): Effect.Effect<void, SqlError> =>
  sql.withTransaction(Effect.zipRight(
    sql`DELETE FROM plexi_mfa_challenges WHERE user_id = ${c.userId} AND expires_at < ${c.now}`,
    sql`INSERT INTO plexi_mfa_challenges (challenge_hash, user_id, device_name, created_at, expires_at)
      VALUES (${c.hash}, ${c.userId}, ${c.deviceName}, ${c.now}, ${c.expiresAt})`
  ))

export interface LockedChallenge {
  readonly userId: UserId
  readonly username: string
  readonly role: WorkspaceRole
  readonly deviceName: string
  readonly expiresAt: number
  readonly attempts: number
  readonly ended: Option.Option<string>
}

interface ChallengeRow {
  readonly user_id: string
  readonly username: string
  readonly role: WorkspaceRole
  readonly device_name: string
  readonly expires_at: string
  readonly attempts: number
  readonly ended_reason: string | null
}

/**
 * The challenge with this hash, its row locked until the transaction ends:
 * attempts on one challenge take turns, on any node.
 */
export const lockChallenge = (sql: SqlClient.SqlClient) => (hash: string): Effect.Effect<Option.Option<LockedChallenge>, SqlError> =>
  Effect.map(
    sql<ChallengeRow>`SELECT c.user_id, a.username, a.role, c.device_name, c.expires_at, c.attempts, c.ended_reason
      FROM plexi_mfa_challenges c JOIN plexi_accounts a ON a.user_id = c.user_id
      WHERE c.challenge_hash = ${hash}
      FOR UPDATE OF c`,
    (rows) =>
      Option.map(Option.fromNullable(rows[0]), (row) => ({
        userId: row.user_id as UserId,
        username: row.username,
        role: row.role,
        deviceName: row.device_name,
        expiresAt: Number(row.expires_at),
        attempts: row.attempts,
        ended: Option.fromNullable(row.ended_reason)
      }))
  )

/** Counts a wrong code; the challenge ends when it reaches `maxAttempts`. The attempts now counted. */
export const failChallenge = (sql: SqlClient.SqlClient) => (hash: string, maxAttempts: number, now: number): Effect.Effect<number, SqlError> =>
  Effect.map(
    sql<{ attempts: number }>`UPDATE plexi_mfa_challenges SET attempts = attempts + 1,
        ended_at = CASE WHEN attempts + 1 >= ${maxAttempts} THEN ${now} ELSE ended_at END,
        ended_reason = CASE WHEN attempts + 1 >= ${maxAttempts} THEN 'too_many_attempts' ELSE ended_reason END
      WHERE challenge_hash = ${hash} RETURNING attempts`,
    (rows) => rows[0]?.attempts ?? maxAttempts
  )

/** Ends the challenge as completed (single use). */
export const completeChallenge = (sql: SqlClient.SqlClient) => (hash: string, now: number): Effect.Effect<void, SqlError> =>
  Effect.asVoid(sql`UPDATE plexi_mfa_challenges SET ended_at = ${now}, ended_reason = 'used' WHERE challenge_hash = ${hash}`)
