/**
 * Verifies the audit log's chain (`plexichat audit verify`): reads every row
 * in seq order, a page at a time, and stops at the first row that breaks it
 * (missing, out of order, unlinked, altered), then checks that the head row
 * records the last row, then that the chain still holds each anchor (a
 * `seq` and hash copied off the database earlier, `plexichat audit head`).
 * Read-only.
 *
 * The chain alone cannot tell a log whose end was cut off or rewritten
 * together with its head row from an honest one; an anchor can: a row that
 * verifies from row 1 and has the anchored hash proves every row up to it
 * is the one the anchor saw.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { GENESIS, problemOf } from "./AuditChain.ts"
import * as AuditRows from "./AuditRows.ts"

/** A position of the chain recorded outside the database: row `seq` had this `hash` (seq 0: the genesis hash). */
export interface Anchor {
  readonly seq: number
  readonly hash: string
}

export type Verdict =
  | { readonly _tag: "Intact"; readonly rows: number; readonly headHash: string }
  | { readonly _tag: "Broken"; readonly seq: number; readonly problem: string; readonly verifiedRows: number }

const PAGE = 1000

const short = (hash: string) => `${hash.slice(0, 12)}…`

/** Why row `seq` (verified, with `hash`) breaks one of `anchors`, if it does. */
const anchorProblem = (anchors: ReadonlyArray<Anchor>, seq: number, hash: string): string | undefined => {
  const broken = anchors.find((anchor) => anchor.seq === seq && anchor.hash !== hash)
  return broken === undefined
    ? undefined
    : `row ${seq} does not match the anchor ${seq}:${short(broken.hash)} (its hash is ${short(hash)}): ` +
      `the log was rewritten at or before row ${seq}`
}

export const verify = (sql: SqlClient.SqlClient, anchors: ReadonlyArray<Anchor> = []): Effect.Effect<Verdict, SqlError> =>
  Effect.gen(function*() {
    let previous = { seq: 0, hash: GENESIS }
    const genesis = anchorProblem(anchors, 0, GENESIS)
    if (genesis !== undefined) return { _tag: "Broken", seq: 0, problem: genesis, verifiedRows: 0 }
    while (true) {
      const rows = yield* AuditRows.page(sql)(previous.seq, PAGE)
      for (const row of rows) {
        const problem = problemOf(previous, row) ?? anchorProblem(anchors, row.seq, row.hash)
        if (problem !== undefined) return { _tag: "Broken", seq: Math.min(row.seq, previous.seq + 1), problem, verifiedRows: previous.seq }
        previous = { seq: row.seq, hash: row.hash }
      }
      if (rows.length < PAGE) break
    }
    const head = yield* AuditRows.head(sql)
    if (head.seq > previous.seq) {
      return { _tag: "Broken", seq: previous.seq + 1, problem: `row ${previous.seq + 1} is missing (the head records ${head.seq} rows)`, verifiedRows: previous.seq }
    }
    if (head.seq < previous.seq || head.hash !== previous.hash) {
      return {
        _tag: "Broken",
        seq: head.seq < previous.seq ? head.seq + 1 : previous.seq,
        problem: `the head records seq ${head.seq} with another hash than the rows (rows were appended or altered outside the log)`,
        verifiedRows: Math.min(head.seq, previous.seq)
      }
    }
    const beyond = anchors.filter((anchor) => anchor.seq > previous.seq).sort((x, y) => y.seq - x.seq)[0]
    if (beyond !== undefined) {
      return {
        _tag: "Broken",
        seq: previous.seq + 1,
        problem: `the log ends at row ${previous.seq}, before the anchor's row ${beyond.seq}: rows after ${previous.seq} were cut off ` +
          "(and the head row rewritten to match)",
        verifiedRows: previous.seq
      }
    }
    return { _tag: "Intact", rows: previous.seq, headHash: previous.hash }
  })
