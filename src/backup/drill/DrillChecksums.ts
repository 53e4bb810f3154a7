/**
 * The drill's per-table figures: a row count and an order-independent checksum, the sum over rows of the first 60
 * bits of `MD5(row line)`, the row line being the snapshot format's (`array_to_json(ARRAY[<col>::text, …])::text`,
 * Snapshot.ts). The same figure is computed from a backup's plaintext and, in SQL, from a restored table, so equal
 * figures mean the same multiset of rows.
 */
import { createHash } from "node:crypto"
import type { SqlClient, SqlError } from "@effect/sql"
import { Effect } from "effect"
import { ident } from "../snapshot/SnapshotTables.ts"

export interface TableFigures {
  readonly rows: number
  /** Decimal. */
  readonly checksum: string
}

export const rowTerm = (line: string): bigint => BigInt(`0x${createHash("md5").update(line, "utf8").digest("hex").slice(0, 15)}`)

/** The figures of `table`'s rows (`columns` in order), in the schema `sql` sees, with an optional condition. */
export const tableFigures = (sql: SqlClient.SqlClient, table: string, columns: ReadonlyArray<string>, where?: string, params: ReadonlyArray<unknown> = []) =>
  Effect.map(
    sql.unsafe<{ n: string; s: string }>(
      `SELECT count(*)::text AS n, coalesce(sum(('x' || substr(md5(r), 1, 15))::bit(60)::bigint), 0)::text AS s
       FROM (SELECT array_to_json(ARRAY[${columns.map((c) => `${ident(c)}::text`).join(", ")}]::text[])::text AS r
             FROM ${ident(table)}${where === undefined ? "" : ` WHERE ${where}`}) AS q`,
      params
    ),
    (rows): TableFigures => ({ rows: Number(rows[0]!.n), checksum: rows[0]!.s })
  ) satisfies Effect.Effect<TableFigures, SqlError.SqlError>
