/**
 * Verifies the audit log's chain (`plexichat audit verify`): reads every row
 * in seq order, a page at a time, and stops at the first row that breaks it
 * (missing, out of order, unlinked, altered), then checks that the head row
 * records the last row. Read-only.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { GENESIS, problemOf } from "./AuditChain.ts"
import * as AuditRows from "./AuditRows.ts"

export type Verdict =
  | { readonly _tag: "Intact"; readonly rows: number; readonly headHash: string }
  | { readonly _tag: "Broken"; readonly seq: number; readonly problem: string; readonly verifiedRows: number }

const PAGE = 1000

export const verify = (sql: SqlClient.SqlClient): Effect.Effect<Verdict, SqlError> =>
  Effect.gen(function*() {
    let previous = { seq: 0, hash: GENESIS }
    while (true) {
      const rows = yield* AuditRows.page(sql)(previous.seq, PAGE)
      for (const row of rows) {
        const problem = problemOf(previous, row)
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
    return { _tag: "Intact", rows: previous.seq, headHash: previous.hash }
  })
