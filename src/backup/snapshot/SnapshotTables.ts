/**
 * Which tables a backup covers, by a rule rather than a list (docs/BACKUPS.md#what-a-backup-holds): every ordinary or
 * partitioned table of the connection's current schema, except
 *
 * - `cluster_*`: @effect/cluster's own runner, message and migration tables (rebuilt by the nodes);
 * - `plexi_migrations`: migration bookkeeping (the restore's target is migrated by the code that restores);
 * - `plexi_shard_holders`: which runner holds which shard lock (only meaningful to the running cluster);
 * - `plexi_node_releases`: which release each node last started with (rewritten by every node at its start);
 * - `plexi_backup*`: the backup catalog and its job state (a backup does not contain backups).
 *
 * A table added by a later migration is therefore covered without a change here. Tables come parents first (by
 * their foreign keys), so that a restore can insert them in stream order; each with its columns in order and the
 * sequences its columns own (serial and identity columns).
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { Effect } from "effect"

/** The predicate on `pg_class c` (with `n` its namespace), as SQL; documented in docs/BACKUPS.md. */
export const coveredTablePredicate = `c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = current_schema()
  AND c.relname NOT LIKE 'cluster\\_%' AND c.relname NOT LIKE 'plexi\\_backup%'
  AND c.relname NOT IN ('plexi_migrations', 'plexi_shard_holders', 'plexi_node_releases')`

export interface CoveredTable {
  readonly name: string
  readonly columns: ReadonlyArray<string>
  /** Sequences owned by the table's columns (`serial`, `bigserial`, identity). */
  readonly sequences: ReadonlyArray<string>
}

interface TableRow {
  readonly name: string
  readonly columns: ReadonlyArray<string>
  readonly parents: ReadonlyArray<string>
  readonly sequences: ReadonlyArray<string>
}

const listing = `SELECT c.relname AS name,
  ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attgenerated = '' ORDER BY a.attnum) AS columns,
  ARRAY(SELECT DISTINCT p.relname::text FROM pg_constraint f JOIN pg_class p ON p.oid = f.confrelid
        WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid) AS parents,
  ARRAY(SELECT s.relname::text FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
        WHERE d.refobjid = c.oid AND d.classid = 'pg_class'::regclass AND s.relkind = 'S' AND d.deptype IN ('a', 'i')
        ORDER BY s.relname) AS sequences
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ${coveredTablePredicate}
ORDER BY c.relname`

/** Orders tables so that every table comes after the tables its foreign keys point to (names break ties). */
export const parentsFirst = (rows: ReadonlyArray<TableRow>): Array<TableRow> => {
  const byName = new Map(rows.map((r) => [r.name, r]))
  const done = new Set<string>()
  const visiting = new Set<string>()
  const out: Array<TableRow> = []
  const visit = (row: TableRow) => {
    if (done.has(row.name) || visiting.has(row.name)) return // a cycle of foreign keys keeps the name order
    visiting.add(row.name)
    for (const parent of row.parents) {
      const p = byName.get(parent)
      if (p !== undefined) visit(p)
    }
    visiting.delete(row.name)
    done.add(row.name)
    out.push(row)
  }
  for (const row of rows) visit(row)
  return out
}

/** The covered tables of the schema `sql` (or a connection of it) sees, parents first. */
export const coveredTables = (execute: Execute) =>
  Effect.map(execute(listing), (rows) =>
    parentsFirst(rows as ReadonlyArray<TableRow>).map(({ columns, name, sequences }): CoveredTable => ({ name, columns, sequences })))

/** A statement without parameters, on a client or on one reserved connection. */
export type Execute = (query: string) => Effect.Effect<ReadonlyArray<any>, SqlError.SqlError>

/** `name` as a quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replaceAll("\"", "\"\"")}"`

/** Runs a statement on `sql` without parameters (the shape `coveredTables` takes). */
export const onClient = (sql: SqlClient.SqlClient): Execute => (query) => sql.unsafe(query)
