/**
 * One poll of the revocation table (Revocations.ts): reads the rows after
 * the cursor, applies the new ones to the in-memory set, tells the listeners
 * what they newly ended, and now and then forgets expired sessions (every
 * 10 s) and deletes rows no node needs any more (every minute).
 */
import type { SqlClient } from "@effect/sql"
import { Clock, Effect } from "effect"
import type { RevocationCursor } from "./RevocationCursor.ts"
import type { Ended, RevocationRow, RevocationSet } from "./RevocationSet.ts"
import * as RevocationRows from "./store/RevocationRows.ts"

const PRUNE_EVERY_MS = 10_000
const PURGE_EVERY_MS = 60_000

export interface PollState {
  readonly sql: SqlClient.SqlClient
  readonly set: RevocationSet
  readonly cursor: RevocationCursor
  readonly listeners: ReadonlySet<(ended: Ended) => void>
  readonly startedAt: number
}

export const readRevocations = ({ cursor, listeners, set, sql, startedAt }: PollState) => {
  let prunedAt = startedAt
  let purgedAt = startedAt

  const readNew = Effect.gen(function*() {
    const fresh: Array<RevocationRow> = []
    while (true) {
      const rows = yield* RevocationRows.after(sql)(cursor.position)
      const now = yield* Clock.currentTimeMillis
      for (const row of rows) {
        if (!cursor.isNew(row.seq)) continue
        cursor.mark(row.seq, now)
        fresh.push(row)
      }
      const last = rows.at(-1)?.seq ?? cursor.position
      cursor.advance(now)
      // A full page the cursor passed: read on at once. One held at a hole is read again (and skipped) next poll.
      if (rows.length < RevocationRows.PAGE || cursor.position < last) break
    }
    return fresh
  })

  const pollOnce = Effect.gen(function*() {
    const fresh = yield* readNew
    const now = yield* Clock.currentTimeMillis
    const ended = set.apply(fresh, now)
    if (ended.sessions.size > 0 || ended.users.size > 0) {
      for (const listener of listeners) {
        yield* Effect.try(() => listener(ended)).pipe(
          Effect.catchAll((error) => Effect.logError("revocation listener failed", error))
        )
      }
    }
    if (now - prunedAt >= PRUNE_EVERY_MS) {
      prunedAt = now
      set.prune(now)
    }
    if (now - purgedAt >= PURGE_EVERY_MS) {
      purgedAt = now
      yield* RevocationRows.purge(sql)(now - PURGE_EVERY_MS)
    }
  })
  return pollOnce
}
