/**
 * Statements of the login throttle (`plexi_login_throttle`) and of the
 * per-address token buckets (`plexi_rate_buckets`), shared by every node.
 * A throttle row is keyed by (username, address): the pair, or `''` in one
 * of them for the account's or the address's own row. The rules are pure, in
 * `../LoginPolicy.ts` and `../../api/TokenBucket.ts`; each statement group
 * runs in one transaction with its rows locked, so nodes take turns.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { take, type TokenBucketOptions } from "../../api/TokenBucket.ts"
import { countFailure, judge, type LoginPolicy, reserve, type ThrottleRow, type Verdict } from "../LoginPolicy.ts"

interface Row {
  readonly username: string
  readonly address: string
  readonly failures: number
  readonly window_started_at: string | number
  readonly next_attempt_at: string | number
  readonly locked_until: string | number
}

const toRow = (r: Row): ThrottleRow => ({
  failures: Number(r.failures),
  windowStartedAt: Number(r.window_started_at),
  nextAttemptAt: Number(r.next_attempt_at),
  lockedUntil: Number(r.locked_until)
})

const write = (sql: SqlClient.SqlClient, username: string, address: string, row: ThrottleRow) =>
  sql`INSERT INTO plexi_login_throttle (username, address, failures, window_started_at, next_attempt_at, locked_until)
    VALUES (${username}, ${address}, ${row.failures}, ${row.windowStartedAt}, ${row.nextAttemptAt}, ${row.lockedUntil})
    ON CONFLICT (username, address) DO UPDATE SET failures = EXCLUDED.failures, window_started_at = EXCLUDED.window_started_at,
      next_attempt_at = EXCLUDED.next_attempt_at, locked_until = EXCLUDED.locked_until`

/**
 * The rows of (username, address) locked for this transaction (created empty
 * first, so there is a row to lock), always in key order so that two
 * transactions locking the same rows cannot deadlock.
 */
const lockRows = (sql: SqlClient.SqlClient, keys: ReadonlyArray<readonly [string, string]>, now: number) =>
  Effect.gen(function*() {
    const sorted = [...keys].sort(([u1, a1], [u2, a2]) => (u1 === u2 ? (a1 < a2 ? -1 : 1) : u1 < u2 ? -1 : 1))
    const rows = new Map<string, ThrottleRow>()
    for (const [u, a] of sorted) {
      yield* sql`INSERT INTO plexi_login_throttle (username, address, failures, window_started_at, next_attempt_at, locked_until)
        VALUES (${u}, ${a}, 0, ${now}, 0, 0) ON CONFLICT (username, address) DO NOTHING`
      const found = yield* sql<Row>`SELECT * FROM plexi_login_throttle WHERE username = ${u} AND address = ${a} FOR UPDATE`
      if (found[0] !== undefined) rows.set(`${u}\n${a}`, toRow(found[0]))
    }
    return (u: string, a: string) => rows.get(`${u}\n${a}`)
  })

/**
 * Judges an attempt of `username` from `address`; an admitted one is counted
 * as a failure of the pair at once (a success clears it), so parallel
 * attempts see each other.
 */
export const admit = (sql: SqlClient.SqlClient) =>
(username: string, address: string, policy: LoginPolicy, now: number): Effect.Effect<Verdict, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    const found = yield* lockRows(sql, [[username, address]], now)
    const pair = found(username, address)
    const side = yield* sql<Row>`SELECT * FROM plexi_login_throttle
      WHERE (username = ${username} AND address = '') OR (username = '' AND address = ${address})`
    const account = side.find((r) => r.address === "")
    const addressRow = side.find((r) => r.username === "")
    const verdict = judge({
      pair,
      account: account === undefined ? undefined : toRow(account),
      address: addressRow === undefined ? undefined : toRow(addressRow)
    }, policy, now)
    if (verdict._tag === "Allowed") yield* write(sql, username, address, reserve(pair, policy, now))
    return verdict
  }))

/** A wrong password: one more failure of the account and of the address (the pair was counted by `admit`). */
export const failed = (sql: SqlClient.SqlClient) =>
(username: string, address: string, policy: LoginPolicy, now: number): Effect.Effect<void, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    const found = yield* lockRows(sql, [[username, ""], ["", address]], now)
    yield* write(sql, username, "", countFailure(found(username, ""), policy.accountLockAfter, policy.accountLockMs, policy.windowMs, now))
    yield* write(sql, "", address, countFailure(found("", address), policy.addressLockAfter, policy.addressLockMs, policy.windowMs, now))
  }))

/**
 * Judges an attempt that only a failure will count (a security key's: its
 * success clears nothing, so no reservation is made). `username` is `''`
 * when the attempt names no account: then only the address's own row counts.
 */
export const judgeOnly = (sql: SqlClient.SqlClient) =>
(username: string, address: string, policy: LoginPolicy, now: number): Effect.Effect<Verdict, SqlError> =>
  Effect.map(
    username === ""
      ? sql<Row>`SELECT * FROM plexi_login_throttle WHERE username = '' AND address = ${address}`
      : sql<Row>`SELECT * FROM plexi_login_throttle
        WHERE (username = ${username} AND (address = ${address} OR address = '')) OR (username = '' AND address = ${address})`,
    (rows) => {
      const row = (u: string, a: string) => {
        const found = rows.find((r) => r.username === u && r.address === a)
        return found === undefined ? undefined : toRow(found)
      }
      return judge(username === "" ? { pair: undefined, account: undefined, address: row("", address) } : {
        pair: row(username, address),
        account: row(username, ""),
        address: row("", address)
      }, policy, now)
    }
  )

/**
 * A failure of an attempt judged by `judgeOnly`: counted as a failed password
 * sign-in ends up counted (the pair's delay and lock as `reserve` makes them,
 * one more of the account and of the address); with no account, the address only.
 */
export const failedUnreserved = (sql: SqlClient.SqlClient) =>
(username: string, address: string, policy: LoginPolicy, now: number): Effect.Effect<void, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    const keys: Array<readonly [string, string]> = username === "" ? [["", address]] : [[username, address], [username, ""], ["", address]]
    const found = yield* lockRows(sql, keys, now)
    if (username !== "") {
      yield* write(sql, username, address, reserve(found(username, address), policy, now))
      yield* write(sql, username, "", countFailure(found(username, ""), policy.accountLockAfter, policy.accountLockMs, policy.windowMs, now))
    }
    yield* write(sql, "", address, countFailure(found("", address), policy.addressLockAfter, policy.addressLockMs, policy.windowMs, now))
  }))

/** A correct password: the pair starts afresh (the account's and the address's counts stay). */
export const succeeded = (sql: SqlClient.SqlClient) => (username: string, address: string): Effect.Effect<void, SqlError> =>
  Effect.asVoid(sql`DELETE FROM plexi_login_throttle WHERE username = ${username} AND address = ${address}`)

/** Clears every row of `username` (its pairs and its account row); returns how many held failures or a lock. */
export const unlock = (sql: SqlClient.SqlClient) => (username: string, now: number): Effect.Effect<number, SqlError> =>
  Effect.map(
    sql<{ held: boolean }>`DELETE FROM plexi_login_throttle WHERE username = ${username}
      RETURNING (failures > 0 OR locked_until > ${now} OR next_attempt_at > ${now}) AS held`,
    (rows) => rows.filter((r) => r.held).length
  )

/** Deletes the rows nothing depends on any more (windows passed, locks and delays over). */
export const purge = (sql: SqlClient.SqlClient) => (policy: LoginPolicy, now: number): Effect.Effect<void, SqlError> =>
  Effect.asVoid(sql`DELETE FROM plexi_login_throttle
    WHERE GREATEST(window_started_at + ${policy.windowMs}, next_attempt_at, locked_until) < ${now}`)

/**
 * Takes one token of the bucket `name`/`key` (e.g. registrations of one
 * address), shared by every node; returns 0, or how many ms until one is there.
 */
export const takeBucket = (sql: SqlClient.SqlClient) =>
(name: string, key: string, options: TokenBucketOptions, now: number): Effect.Effect<number, SqlError> =>
  sql.withTransaction(Effect.gen(function*() {
    yield* sql`INSERT INTO plexi_rate_buckets (name, key, tokens, refilled_at) VALUES (${name}, ${key}, ${options.burst}, ${now})
      ON CONFLICT (name, key) DO NOTHING`
    const rows = yield* sql<{ tokens: number; refilled_at: string | number }>`
      SELECT tokens, refilled_at FROM plexi_rate_buckets WHERE name = ${name} AND key = ${key} FOR UPDATE`
    const bucket = { tokens: Math.min(options.burst, Number(rows[0]!.tokens)), refilledAt: Number(rows[0]!.refilled_at) }
    const waitMs = take(bucket, options, now)
    yield* sql`UPDATE plexi_rate_buckets SET tokens = ${bucket.tokens}, refilled_at = ${bucket.refilledAt}
      WHERE name = ${name} AND key = ${key}`
    return waitMs
  }))

/** Deletes buckets that have refilled (a full bucket is the same as none). */
export const purgeBuckets = (sql: SqlClient.SqlClient) => (name: string, options: TokenBucketOptions, now: number) =>
  Effect.asVoid(sql`DELETE FROM plexi_rate_buckets
    WHERE name = ${name} AND tokens + (${now} - refilled_at) * ${options.rate} / 1000.0 >= ${options.burst}`)
