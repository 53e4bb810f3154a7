/**
 * The login throttle's rules, pure (the rows come from and go to
 * `store/ThrottleRows.ts`; time is passed in). Three counters of failed
 * sign-ins, each a row of `plexi_login_throttle`:
 *
 * - **pair** (one account from one address): after `delayAfter` failures every
 *   further attempt waits `delayBaseMs`, doubling up to `delayMaxMs`; after
 *   `lockAfter` the pair is locked for `lockMs`. A success clears it.
 * - **account** (from every address): after `accountLockAfter` failures the
 *   account is locked for `accountLockMs`, but only for the addresses that
 *   failed on it: an address with no failure on the account still signs in,
 *   so an attacker cannot lock its owner out.
 * - **address** (every account from one address): after `addressLockAfter`
 *   failures the address is locked for `addressLockMs` (password spraying).
 *
 * Counts are forgotten `windowMs` after their first failure; a lock runs its
 * own time. An attempt counts as a failure from the moment it is admitted
 * (`reserve`), so parallel attempts cannot slip past the delay; a success
 * deletes the pair row.
 */

export interface LoginPolicy {
  readonly delayAfter: number
  readonly delayBaseMs: number
  readonly delayMaxMs: number
  readonly lockAfter: number
  readonly lockMs: number
  readonly accountLockAfter: number
  readonly accountLockMs: number
  readonly addressLockAfter: number
  readonly addressLockMs: number
  readonly windowMs: number
}

export interface ThrottleRow {
  readonly failures: number
  readonly windowStartedAt: number
  readonly nextAttemptAt: number
  readonly lockedUntil: number
}

export const emptyRow = (now: number): ThrottleRow => ({ failures: 0, windowStartedAt: now, nextAttemptAt: 0, lockedUntil: 0 })

/** The row as of `now`: its count forgotten once the window passed (its lock and delay stay). */
export const current = (row: ThrottleRow | undefined, windowMs: number, now: number): ThrottleRow =>
  row === undefined
    ? emptyRow(now)
    : now - row.windowStartedAt > windowMs
    ? { ...row, failures: 0, windowStartedAt: now }
    : row

export type Verdict =
  | { readonly _tag: "Allowed" }
  | { readonly _tag: "Delayed"; readonly retryAfterMs: number }
  | { readonly _tag: "Locked"; readonly scope: "account" | "address"; readonly retryAfterMs: number }

export interface Rows {
  readonly pair: ThrottleRow | undefined
  readonly account: ThrottleRow | undefined
  readonly address: ThrottleRow | undefined
}

/** Whether an attempt of this pair may go on to the password check now. */
export const judge = (rows: Rows, policy: LoginPolicy, now: number): Verdict => {
  const pair = current(rows.pair, policy.windowMs, now)
  if (rows.address !== undefined && rows.address.lockedUntil > now) {
    return { _tag: "Locked", scope: "address", retryAfterMs: rows.address.lockedUntil - now }
  }
  if (pair.lockedUntil > now) return { _tag: "Locked", scope: "account", retryAfterMs: pair.lockedUntil - now }
  // The account-wide lock holds only the addresses that failed on the account.
  if (rows.account !== undefined && rows.account.lockedUntil > now && pair.failures > 0) {
    return { _tag: "Locked", scope: "account", retryAfterMs: rows.account.lockedUntil - now }
  }
  if (pair.nextAttemptAt > now) return { _tag: "Delayed", retryAfterMs: pair.nextAttemptAt - now }
  return { _tag: "Allowed" }
}

/** The wait after the `failures`-th failure of a pair. */
export const delayAfterFailures = (failures: number, policy: LoginPolicy): number =>
  failures < policy.delayAfter
    ? 0
    : Math.min(policy.delayMaxMs, policy.delayBaseMs * 2 ** Math.min(30, failures - policy.delayAfter))

/** The pair row once an admitted attempt counts as a failure (undone by a success). */
export const reserve = (row: ThrottleRow | undefined, policy: LoginPolicy, now: number): ThrottleRow => {
  const before = current(row, policy.windowMs, now)
  const failures = before.failures + 1
  const delay = delayAfterFailures(failures, policy)
  return {
    failures,
    windowStartedAt: before.windowStartedAt,
    nextAttemptAt: delay > 0 ? now + delay : 0,
    lockedUntil: failures >= policy.lockAfter ? Math.max(before.lockedUntil, now + policy.lockMs) : before.lockedUntil
  }
}

/** An account or address row after one more failure. */
export const countFailure = (row: ThrottleRow | undefined, lockAfter: number, lockMs: number, windowMs: number, now: number): ThrottleRow => {
  const before = current(row, windowMs, now)
  const failures = before.failures + 1
  return {
    ...before,
    failures,
    lockedUntil: failures >= lockAfter ? Math.max(before.lockedUntil, now + lockMs) : before.lockedUntil
  }
}
