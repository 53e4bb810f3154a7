/**
 * The inserts of a channel copy (ChannelCopy.ts), in the caller's transaction on the live database: rows of one
 * table in batches, every value cast from its text form to the live column's type (as SnapshotApply.ts does), the
 * channel's id replaced by the new one.
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { Effect } from "effect"
import { ident } from "../snapshot/SnapshotTables.ts"
import { typesOf } from "./SnapshotApply.ts"

export interface TableRows {
  readonly table: string
  readonly columns: ReadonlyArray<string>
  readonly rows: Array<Array<string | null>>
}

/**
 * Inserts `rows` of `table` (only the columns the live table has), `where` a condition on each row `r` (its values
 * as `r->>i`); gives the inserted rows' `returning` column.
 */
export const insertRows = (
  sql: SqlClient.SqlClient,
  { columns, rows, table }: TableRows,
  options: { readonly where?: (index: (column: string) => number) => string; readonly returning: string }
): Effect.Effect<ReadonlyArray<string>, SqlError.SqlError> =>
  Effect.gen(function*() {
    if (rows.length === 0) return []
    const types = yield* typesOf(sql, table)
    const kept = columns.map((c, i) => [c, i] as const).filter(([c]) => types.has(c))
    const casts = kept.map(([c, i]) => `(r->>${i})::${types.get(c)}`).join(", ")
    const where = options.where === undefined ? "" : ` WHERE ${options.where((c) => columns.indexOf(c))}`
    const statement = `INSERT INTO ${ident(table)} (${kept.map(([c]) => ident(c)).join(", ")}) SELECT ${casts}
      FROM json_array_elements($1::json) AS r${where} RETURNING ${ident(options.returning)}::text AS v`
    const out: Array<string> = []
    for (let at = 0; at < rows.length; at += 1000) {
      const inserted = yield* sql.unsafe<{ v: string }>(statement, [JSON.stringify(rows.slice(at, at + 1000))])
      for (const r of inserted) out.push(r.v)
    }
    return out
  })
