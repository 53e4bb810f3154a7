/**
 * WebAuthn statements: `plexi_webauthn_credentials` (one row per registered
 * key) and `plexi_webauthn_challenges` (the challenges of ceremonies under
 * way, shared by every node, so that any node may verify what another
 * issued). A challenge is taken with `DELETE … RETURNING` inside the
 * ceremony's transaction: a second ceremony with the same challenge waits for
 * the first and then finds nothing, and a refused ceremony rolls the delete
 * back with everything else.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { UserId } from "../../../domain/Ids.ts"
import type { WebAuthnKey } from "../../../domain/WebAuthn.ts"

/** What a challenge was issued for. */
export type Ceremony = "register" | "login" | "second_factor"

export interface StoredChallenge {
  readonly id: string
  readonly challenge: string
  readonly ceremony: Ceremony
  /** The caller (register) or the user signing in (second factor); none for passwordless sign-in. */
  readonly userId: Option.Option<UserId>
  /** The sign-in challenge a second factor completes (e.g. the MFA challenge); none otherwise. */
  readonly boundTo: Option.Option<string>
  /** The name of the key being registered. */
  readonly keyName: Option.Option<string>
  readonly expiresAt: number
}

export interface StoredKey {
  readonly id: string
  readonly userId: UserId
  /** The COSE public key, base64url. */
  readonly publicKey: string
  readonly counter: number
  readonly transports: ReadonlyArray<string>
}

export interface NewKey extends StoredKey {
  readonly name: string
  readonly now: number
}

interface ChallengeRow {
  readonly id: string
  readonly challenge: string
  readonly ceremony: Ceremony
  readonly user_id: string | null
  readonly bound_to: string | null
  readonly key_name: string | null
  readonly expires_at: string
}

/** Stores a challenge, after purging the expired ones (so the table holds only live ceremonies). */
export const insertChallenge = (sql: SqlClient.SqlClient) => (c: StoredChallenge, now: number): Effect.Effect<void, SqlError> =>
  Effect.zipRight(
    sql`DELETE FROM plexi_webauthn_challenges WHERE expires_at <= ${now}`,
    sql`INSERT INTO plexi_webauthn_challenges (id, challenge, ceremony, user_id, bound_to, key_name, created_at, expires_at)
      VALUES (${c.id}, ${c.challenge}, ${c.ceremony}, ${Option.getOrNull(c.userId)}, ${Option.getOrNull(c.boundTo)},
        ${Option.getOrNull(c.keyName)}, ${now}, ${c.expiresAt})`
  )

/** Removes and answers a challenge; call it inside the ceremony's transaction. */
export const takeChallenge = (sql: SqlClient.SqlClient) => (id: string): Effect.Effect<Option.Option<StoredChallenge>, SqlError> =>
  Effect.map(
    sql<ChallengeRow>`DELETE FROM plexi_webauthn_challenges WHERE id = ${id}
      RETURNING id, challenge, ceremony, user_id, bound_to, key_name, expires_at`,
    (rows) =>
      Option.map(Option.fromNullable(rows[0]), (row) => ({
        id: row.id,
        challenge: row.challenge,
        ceremony: row.ceremony,
        userId: Option.fromNullable(row.user_id as UserId | null),
        boundTo: Option.fromNullable(row.bound_to),
        keyName: Option.fromNullable(row.key_name),
        expiresAt: Number(row.expires_at)
      }))
  )

interface KeyRow {
  readonly id: string
  readonly user_id: string
  readonly public_key: string
  readonly counter: string
  readonly transports: string
}

const parseTransports = (json: string): ReadonlyArray<string> => {
  const value: unknown = JSON.parse(json)
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === "string") : []
}

/** A key by credential id, its row locked until the transaction ends (two assertions of one key take turns). */
export const findKeyForUpdate = (sql: SqlClient.SqlClient) => (id: string): Effect.Effect<Option.Option<StoredKey>, SqlError> =>
  Effect.map(
    sql<KeyRow>`SELECT id, user_id, public_key, counter, transports FROM plexi_webauthn_credentials WHERE id = ${id} FOR UPDATE`,
    (rows) =>
      Option.map(Option.fromNullable(rows[0]), (row) => ({
        id: row.id,
        userId: row.user_id as UserId,
        publicKey: row.public_key,
        counter: Number(row.counter),
        transports: parseTransports(row.transports)
      }))
  )

/**
 * The account a credential id names (its user and username), read without a
 * lock: the login throttle judges a passwordless sign-in by it before the
 * ceremony, which reads the key again under its lock.
 */
export const findKeyOwner = (sql: SqlClient.SqlClient) =>
(id: string): Effect.Effect<Option.Option<{ readonly userId: UserId; readonly username: string }>, SqlError> =>
  Effect.map(
    sql<{ user_id: string; username: string }>`SELECT k.user_id, a.username FROM plexi_webauthn_credentials k
      JOIN plexi_accounts a ON a.user_id = k.user_id WHERE k.id = ${id}`,
    (rows) => Option.map(Option.fromNullable(rows[0]), (row) => ({ userId: row.user_id as UserId, username: row.username }))
  )

/** The ids and transports of a user's keys (for `excludeCredentials` / `allowCredentials`). */
export const keyDescriptors = (sql: SqlClient.SqlClient) => (userId: UserId) =>
  Effect.map(
    sql<{ id: string; transports: string }>`SELECT id, transports FROM plexi_webauthn_credentials WHERE user_id = ${userId}
      ORDER BY created_at, id`,
    (rows) => rows.map((row) => ({ id: row.id, transports: [...parseTransports(row.transports)] }))
  )

/**
 * Locks the account row (registrations of one user take turns, so the key
 * limit holds) and answers how many keys it has; none when the account is gone.
 */
export const lockAccountKeys = (sql: SqlClient.SqlClient) => (userId: UserId): Effect.Effect<Option.Option<number>, SqlError> =>
  Effect.gen(function*() {
    const account = yield* sql`SELECT user_id FROM plexi_accounts WHERE user_id = ${userId} FOR UPDATE`
    if (account.length === 0) return Option.none()
    const rows = yield* sql<{ n: string }>`SELECT count(*) AS n FROM plexi_webauthn_credentials WHERE user_id = ${userId}`
    return Option.some(Number(rows[0]!.n))
  })

/** Stores a new key; false when the credential id is already registered (to anyone). */
export const insertKey = (sql: SqlClient.SqlClient) => (k: NewKey): Effect.Effect<boolean, SqlError> =>
  Effect.map(
    sql`INSERT INTO plexi_webauthn_credentials (id, user_id, public_key, counter, transports, name, created_at)
      VALUES (${k.id}, ${k.userId}, ${k.publicKey}, ${k.counter}, ${JSON.stringify(k.transports)}, ${k.name}, ${k.now})
      ON CONFLICT (id) DO NOTHING RETURNING id`,
    (rows) => rows.length === 1
  )

/** Records a verified assertion: the authenticator's new counter and the time of use. */
export const recordUse = (sql: SqlClient.SqlClient) => (id: string, counter: number, now: number): Effect.Effect<void, SqlError> =>
  Effect.asVoid(sql`UPDATE plexi_webauthn_credentials SET counter = ${counter}, last_used_at = ${now} WHERE id = ${id}`)

interface ListRow {
  readonly id: string
  readonly name: string
  readonly transports: string
  readonly created_at: string
  readonly last_used_at: string | null
}

/** A user's keys, oldest first. */
export const listKeys = (sql: SqlClient.SqlClient) => (userId: UserId): Effect.Effect<Array<WebAuthnKey>, SqlError> =>
  Effect.map(
    sql<ListRow>`SELECT id, name, transports, created_at, last_used_at FROM plexi_webauthn_credentials
      WHERE user_id = ${userId} ORDER BY created_at, id`,
    (rows) =>
      rows.map((row) => ({
        id: row.id,
        name: row.name,
        transports: [...parseTransports(row.transports)],
        createdAt: Number(row.created_at),
        lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at)
      }))
  )

/** Deletes one key of `userId`; false when it has no such key. */
export const deleteKey = (sql: SqlClient.SqlClient) => (userId: UserId, id: string): Effect.Effect<boolean, SqlError> =>
  Effect.map(
    sql`DELETE FROM plexi_webauthn_credentials WHERE id = ${id} AND user_id = ${userId} RETURNING id`,
    (rows) => rows.length === 1
  )
