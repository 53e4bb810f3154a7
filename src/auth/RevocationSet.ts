/**
 * What a node knows is revoked, in memory, so that checking a token costs
 * two map lookups and no database round trip: the ended sessions whose
 * access tokens may still be alive (each kept `until` the last of them
 * expires), and the disabled accounts.
 */
import type { SessionId, UserId } from "../../domain/Ids.ts"

/** A row of `plexi_revocations`. */
export interface RevocationRow {
  readonly seq: number
  readonly kind: "session" | "user_disabled" | "user_enabled"
  readonly userId: UserId
  readonly sessionId: SessionId | null
  readonly until: number
}

/** What a batch of rows newly ended: the sockets of these sessions and users must close. */
export interface Ended {
  readonly sessions: ReadonlySet<SessionId>
  readonly users: ReadonlySet<UserId>
}

export type RevokedReason = "session_revoked" | "account_disabled"

/** Far longer than the revocation cursor's gap timeout (10 s), the most a row can come late. */
const USER_EVENT_MEMORY_MS = 5 * 60_000

export class RevocationSet {
  private readonly sessions = new Map<SessionId, number>()
  private readonly disabled = new Set<UserId>()
  /**
   * The seq of the latest account event applied per user, and when: a late
   * row never undoes a newer one. Rows come late by at most the cursor's gap
   * timeout, so an entry is forgotten after `USER_EVENT_MEMORY_MS`.
   */
  private readonly userSeq = new Map<UserId, { readonly seq: number; readonly at: number }>()

  /** Why a token of this user and session is refused, or undefined when it is not. */
  reasonFor(userId: UserId, sessionId: SessionId | undefined): RevokedReason | undefined {
    if (this.disabled.has(userId)) return "account_disabled"
    if (sessionId !== undefined && this.sessions.has(sessionId)) return "session_revoked"
    return undefined
  }

  /** The accounts disabled when the node started (from `plexi_accounts`). */
  loadDisabled(userIds: Iterable<UserId>) {
    for (const userId of userIds) this.disabled.add(userId)
  }

  /** Applies rows (in seq order); answers what they newly ended. */
  apply(rows: Iterable<RevocationRow>, now: number): Ended {
    const sessions = new Set<SessionId>()
    const users = new Set<UserId>()
    for (const row of rows) {
      if (row.kind === "session") {
        if (row.sessionId === null || row.until <= now) continue
        if (!this.sessions.has(row.sessionId)) sessions.add(row.sessionId)
        this.sessions.set(row.sessionId, Math.max(row.until, this.sessions.get(row.sessionId) ?? 0))
        continue
      }
      if ((this.userSeq.get(row.userId)?.seq ?? 0) > row.seq) continue
      this.userSeq.set(row.userId, { seq: row.seq, at: now })
      if (row.kind === "user_disabled") {
        if (!this.disabled.has(row.userId)) users.add(row.userId)
        this.disabled.add(row.userId)
      } else {
        this.disabled.delete(row.userId)
        users.delete(row.userId)
      }
    }
    return { sessions, users }
  }

  /** Forgets sessions whose access tokens have all expired, and old account-event seqs. */
  prune(now: number) {
    for (const [sessionId, until] of this.sessions) if (until <= now) this.sessions.delete(sessionId)
    for (const [userId, { at }] of this.userSeq) if (now - at >= USER_EVENT_MEMORY_MS) this.userSeq.delete(userId)
  }

  size(): { readonly sessions: number; readonly disabled: number } {
    return { sessions: this.sessions.size, disabled: this.disabled.size }
  }
}
