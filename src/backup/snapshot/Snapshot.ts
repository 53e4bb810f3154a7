/**
 * One consistent snapshot of the covered tables (SnapshotTables.ts), streamed in the snapshot format
 * (SnapshotFormat.ts): a connection of its own runs `REPEATABLE READ READ ONLY` for the scope's lifetime, the rows
 * come through a server-side cursor (`DECLARE … CURSOR`, `FETCH 1000`) 1,000 at a time, and no more than one cursor
 * batch is held, whatever the size of the database. The high-water marks (per channel `seq`, audit `seq`) are read in the same snapshot.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Chunk, Effect, Option, Stream } from "effect"
import type { BackupKind } from "../../../domain/Backup.ts"
import { headerLine, line } from "./SnapshotFormat.ts"
import { type CoveredTable, coveredTables, type Execute, ident } from "./SnapshotTables.ts"

/** Where an incremental backup starts: the parent's newest seq per channel and its newest audit seq. */
export interface HighWater {
  readonly auditSeq: number
  readonly channelSeq: Readonly<Record<string, number>>
}

export interface SnapshotOpened {
  readonly tables: ReadonlyArray<CoveredTable>
  readonly highWater: HighWater
  readonly schemaLevel: number
  /** The snapshot's plaintext; run it once, inside the scope that opened it. */
  readonly bytes: Stream.Stream<Uint8Array, SqlError.SqlError>
  /** The rows streamed so far (all of them once `bytes` ended). */
  readonly rows: () => number
}

/** A condition on a table's rows (SQL, `WHERE` omitted), or none for all of them: incremental backups filter. */
export type RowFilter = (table: CoveredTable) => string | undefined

/** A table's row order (SQL, `ORDER BY` omitted), or none for the scan's: the durable job orders big tables by key. */
export type RowOrder = (table: CoveredTable) => string | undefined

/** The durable job's choices (src/backup/job/JobSnapshot.ts): row order per table, and the tables' order. */
export interface SnapshotLayout {
  readonly order?: RowOrder
  readonly arrange?: (tables: ReadonlyArray<CoveredTable>) => ReadonlyArray<CoveredTable>
}

const encoder = new TextEncoder()

/** Rows per `FETCH`: few round trips, and a batch of at most a few MiB (message bodies are bounded). */
const fetchRows = 1000

/**
 * The rows of `query` through the cursor `name`, declared in the snapshot's transaction and closed after its last
 * batch; a batch shorter than `fetchRows` is the last.
 */
const cursorRows = (execute: Execute, name: string, query: string): Stream.Stream<{ readonly r: string }, SqlError.SqlError> =>
  Stream.suspend(() => {
    let done = false
    const pull = Effect.suspend(() =>
      done
        ? Effect.fail(Option.none())
        : Effect.mapBoth(execute(`FETCH FORWARD ${fetchRows} FROM ${name}`), {
          onFailure: Option.some,
          onSuccess: (rows) => {
            done = rows.length < fetchRows
            return Chunk.unsafeFromArray(rows as ReadonlyArray<{ readonly r: string }>)
          }
        })
    )
    return Stream.execute(execute(`DECLARE ${name} NO SCROLL CURSOR FOR ${query}`)).pipe(
      Stream.concat(Stream.repeatEffectChunkOption(pull)),
      Stream.concat(Stream.execute(execute(`CLOSE ${name}`)))
    )
  })

const has = (tables: ReadonlyArray<CoveredTable>, name: string) => tables.some((t) => t.name === name)

const readHighWater = (execute: Execute, tables: ReadonlyArray<CoveredTable>) =>
  Effect.gen(function*() {
    const channelSeq: Record<string, number> = {}
    if (has(tables, "plexi_messages")) {
      for (const row of yield* execute("SELECT channel_id, max(seq)::text AS seq FROM plexi_messages GROUP BY channel_id ORDER BY channel_id")) {
        channelSeq[row.channel_id] = Number(row.seq)
      }
    }
    const audit = has(tables, "plexi_audit_log") ? yield* execute("SELECT coalesce(max(seq), 0)::text AS seq FROM plexi_audit_log") : [{ seq: "0" }]
    return { auditSeq: Number(audit[0].seq), channelSeq } satisfies HighWater
  })

const schemaLevelOf = (execute: Execute) =>
  Effect.map(
    execute("SELECT CASE WHEN to_regclass('plexi_migrations') IS NULL THEN '0' ELSE (SELECT coalesce(max(migration_id), 0)::text FROM plexi_migrations) END AS level"),
    (rows) => Number(rows[0].level)
  )

const tableStream = (
  stream: (query: string) => Stream.Stream<{ readonly r: string }, SqlError.SqlError>,
  table: CoveredTable,
  filter: string | undefined,
  counted: (n: number) => void,
  order?: string
) =>
  Stream.suspend(() => {
    let rows = 0
    const values = table.columns.map((c) => `${ident(c)}::text`).join(", ")
    const where = filter === undefined ? "" : ` WHERE ${filter}`
    const orderBy = order === undefined ? "" : ` ORDER BY ${order}`
    const query = `SELECT array_to_json(ARRAY[${values}]::text[])::text AS r FROM ${ident(table.name)}${where}${orderBy}`
    const body = Stream.mapChunks(stream(query), (chunk) => {
      let text = ""
      for (const row of chunk) text += `${row.r}\n`
      rows += chunk.length
      return Chunk.of(encoder.encode(text))
    })
    const end = Stream.suspend(() => {
      counted(rows)
      return Stream.make(encoder.encode(line({ end: table.name, rows })))
    })
    return Stream.make(encoder.encode(line({ table: table.name, columns: table.columns }))).pipe(Stream.concat(body), Stream.concat(end))
  })

const sequenceLines = (execute: Execute, tables: ReadonlyArray<CoveredTable>) =>
  Stream.fromIterable(tables.flatMap((t) => t.sequences)).pipe(
    Stream.mapEffect((name) =>
      Effect.map(
        execute(`SELECT last_value::text AS v, is_called FROM ${ident(name)}`),
        (rows) => encoder.encode(line({ sequence: name, lastValue: rows[0].v, isCalled: rows[0].is_called }))
      )
    )
  )

/**
 * Opens the snapshot on a reserved connection (rolled back, as it only read, when the scope closes) and gives its
 * tables, high-water marks and plaintext stream.
 */
export const openSnapshot = (
  header: { readonly backupId: string; readonly kind: BackupKind; readonly createdAt: number },
  filter?: RowFilter,
  layout: SnapshotLayout = {}
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const conn = yield* sql.reserve
    const execute: Execute = (query) => conn.execute(query, [], undefined)
    yield* Effect.acquireRelease(execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"), () => Effect.ignore(execute("ROLLBACK")))
    // The snapshot is taken by the first query after BEGIN: every read below sees the same state.
    const covered = yield* coveredTables(execute)
    const tables = layout.arrange?.(covered) ?? covered
    const highWater = yield* readHighWater(execute, tables)
    const schemaLevel = yield* schemaLevelOf(execute)
    let total = 0
    const counted = (n: number) => {
      total += n
    }
    const bytes = Stream.suspend(() => {
      let cursors = 0
      const stream = (query: string) => cursorRows(execute, `plexi_snapshot_${++cursors}`, query)
      return Stream.make(encoder.encode(headerLine({ ...header, schemaLevel }))).pipe(
        Stream.concat(Stream.flatMap(Stream.fromIterable(tables), (t) => tableStream(stream, t, filter?.(t), counted, layout.order?.(t)))),
        Stream.concat(sequenceLines(execute, tables)),
        Stream.concat(Stream.suspend(() => Stream.make(encoder.encode(line({ end: "snapshot", tables: tables.length, rows: total })))))
      )
    })
    return { tables, highWater, schemaLevel, bytes, rows: () => total } satisfies SnapshotOpened
  })
