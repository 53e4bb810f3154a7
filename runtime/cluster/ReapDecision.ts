/**
 * The reaper's decision (RunnerReaper.ts), as a pure function of what one
 * round read from Postgres: may this runner act at all, which runners are
 * dead, which are stalled, and which outgoing connections stay.
 *
 * Margins, so that two live runners with uneven delays never fence each other:
 * - this runner acts only while its own heartbeat is younger than half the lock
 *   expiration (a runner that is itself late, or a database too slow for
 *   anyone's heartbeat, reaps and cuts nobody);
 * - a runner with sessions is stalled only once its heartbeat is older than the
 *   expiration plus two heartbeat intervals (`stallAfterMs`).
 */

export interface RunnerView {
  readonly address: string
  /** Age of its `last_heartbeat`, by the database's clock. */
  readonly heartbeatAgeMs: number
  /** Whether any database session carries its `application_name`. */
  readonly hasSessions: boolean
}

export interface ReapDecision {
  readonly mayAct: boolean
  /** Rows to delete: no session left. */
  readonly dead: ReadonlyArray<string>
  /** Runners whose old sessions are to be ended: sessions open, heartbeat older than `stallAfterMs`. */
  readonly stalled: ReadonlyArray<string>
  /** Runners whose connections are kept, its own among them (every other one is cut); none when `mayAct` is false (cut nothing). */
  readonly keep: ReadonlySet<string>
}

export interface ReapTimings {
  readonly expirationMs: number
  /** The heartbeat interval the library really uses: min(lock refresh, expiration / 3). */
  readonly heartbeatMs: number
}

export const heartbeatInterval = (expirationMs: number, refreshMs: number) => Math.min(refreshMs, expirationMs / 3)

/** Own heartbeat must be younger than this for the runner to act. */
export const ownFreshWithinMs = (t: ReapTimings) => t.expirationMs / 2

/** A runner's heartbeat must be older than this for it to count as stalled. */
export const stallAfterMs = (t: ReapTimings) => t.expirationMs + 2 * t.heartbeatMs

export const decide = (self: string, runners: ReadonlyArray<RunnerView>, timings: ReapTimings): ReapDecision => {
  const own = runners.find((r) => r.address === self)
  const mayAct = own !== undefined && own.heartbeatAgeMs < ownFreshWithinMs(timings)
  if (!mayAct) return { mayAct, dead: [], stalled: [], keep: new Set() }
  const others = runners.filter((r) => r.address !== self)
  const dead = others.filter((r) => !r.hasSessions).map((r) => r.address)
  const stalled = others.filter((r) => r.hasSessions && r.heartbeatAgeMs > stallAfterMs(timings)).map((r) => r.address)
  const gone = new Set([...dead, ...stalled])
  // Its own address stays too: a node's connections to its own runner are cut by nobody (the cluster opens some).
  return { mayAct, dead, stalled, keep: new Set([self, ...others.map((r) => r.address).filter((a) => !gone.has(a))]) }
}
