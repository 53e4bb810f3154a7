/**
 * Applies a snapshot's lines (SnapshotFormat.ts) to the target database, in the caller's transaction: each table's
 * rows are inserted in batches of up to 1,000 rows, every value cast from its text form to the target column's type
 * (what `COPY FROM` does), row counts are checked against each table's end line and the trailer, and the owned
 * sequences are set. One batch is in flight while the next is parsed (the database and this process work at the
 * same time); it is awaited before any other statement, and its failure is the restore's. A stream that ends before its trailer, a line out of place, a table or column the target
 * lacks, or a row Postgres refuses, is `RestoreFailed`.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Effect, Fiber, Schema, Stream } from "effect"
import { RestoreFailed } from "../../../domain/Backup.ts"
import { ControlLine, type Header } from "../snapshot/SnapshotFormat.ts"
import { appendOnlyTables } from "../snapshot/Incremental.ts"
import { eventTimeColumns } from "./PointInTime.ts"
import { ident } from "../snapshot/SnapshotTables.ts"

const batchRows = 1000
const batchChars = 4 * 1024 * 1024

export interface ApplyOptions {
  readonly backupId: string
  readonly kind: "full" | "incremental"
  /** Point in time (ms): rows of the event-time tables after it are left out (PointInTime.ts). */
  readonly until?: number
  /** The target's migration level: a backup of a newer schema is refused. */
  readonly schemaLevel: number
}

export interface Applied {
  readonly header: Header
  readonly tables: number
  readonly rows: number
}

interface Loading {
  readonly name: string
  readonly columns: number
  readonly insert: string
  /** The event-time column's index when rows after `until` are left out. */
  readonly timeIndex: number
  batch: Array<string>
  chars: number
  rows: number
}

/** What has been applied so far. */
interface State {
  header: Header | undefined
  table: Loading | undefined
  /** The batch insert the database is running, awaited before the next statement. */
  inFlight: Fiber.RuntimeFiber<void, RestoreFailed> | undefined
  trailer: boolean
  tables: number
  rows: number
}

interface Context {
  readonly sql: SqlClient.SqlClient
  readonly options: ApplyOptions
  readonly state: State
  readonly failed: (reason: string) => RestoreFailed
  readonly onSql: (what: string) => (e: SqlError.SqlError) => RestoreFailed
}

const decodeControl = Schema.decodeUnknownEither(ControlLine)

/** The target columns of `table` and their types (`format_type`), by name. */
export const typesOf = (sql: SqlClient.SqlClient, table: string) =>
  Effect.map(
    sql.unsafe<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
       WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
      [ident(table)]
    ),
    (rows) => new Map(rows.map((r) => [r.name, r.type]))
  )

/** Waits for the batch in flight, if any; its failure is this effect's. */
const settle = (ctx: Context) =>
  Effect.suspend(() => {
    const fiber = ctx.state.inFlight
    ctx.state.inFlight = undefined
    return fiber === undefined ? Effect.void : Fiber.join(fiber)
  })

/** Sends the table's batch once the one before it is done, and goes on without waiting for it (`settle` does). */
const flush = (ctx: Context, t: Loading) =>
  t.batch.length === 0
    ? Effect.void
    : Effect.flatMap(settle(ctx), () => {
      const json = `[${t.batch.join(",")}]`
      t.batch = []
      t.chars = 0
      // The forked insert runs on the transaction's connection (it inherits this fiber's context).
      return Effect.map(Effect.fork(Effect.asVoid(Effect.mapError(ctx.sql.unsafe(t.insert, [json]), ctx.onSql(`loading ${t.name}`)))), (fiber) => {
        ctx.state.inFlight = fiber
      })
    })

const startTable = (ctx: Context, name: string, columns: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    if (ctx.state.table !== undefined) return yield* Effect.fail(ctx.failed(`table ${name} starts inside ${ctx.state.table.name}`))
    yield* settle(ctx)
    const types = yield* Effect.mapError(typesOf(ctx.sql, name), ctx.onSql(`reading ${name}`))
    if (types.size === 0) return yield* Effect.fail(ctx.failed(`the target has no table ${name}`))
    const missing = columns.filter((c) => !types.has(c))
    if (missing.length > 0) return yield* Effect.fail(ctx.failed(`the target's ${name} has no column ${missing.join(", ")}`))
    // A full backup replaces every table (only rows its migration seeded are there); an incremental appends to the
    // append-only tables and replaces the others.
    const replace = ctx.state.header?.kind === "full" || !appendOnlyTables.includes(name)
    if (replace) yield* Effect.mapError(ctx.sql.unsafe(`DELETE FROM ${ident(name)}`), ctx.onSql(`emptying ${name}`))
    const casts = columns.map((c, i) => `(r->>${i})::${types.get(c)}`).join(", ")
    const insert = `INSERT INTO ${ident(name)} (${columns.map(ident).join(", ")}) SELECT ${casts} FROM jsonb_array_elements($1::jsonb) AS r`
    const timeColumn = ctx.options.until === undefined ? undefined : eventTimeColumns[name]
    const timeIndex = timeColumn === undefined ? -1 : columns.indexOf(timeColumn)
    ctx.state.table = { name, columns: columns.length, insert, timeIndex, batch: [], chars: 0, rows: 0 }
  })

const endTable = (ctx: Context, name: string, count: number) =>
  Effect.gen(function*() {
    const t = ctx.state.table
    if (t === undefined || name !== t.name) return yield* Effect.fail(ctx.failed(`the end of ${name} outside it`))
    yield* flush(ctx, t)
    yield* settle(ctx)
    if (count !== t.rows) return yield* Effect.fail(ctx.failed(`${t.name}: ${t.rows} rows, its end line says ${count}`))
    ctx.state.tables += 1
    ctx.state.rows += t.rows
    ctx.state.table = undefined
  })

const onRow = (ctx: Context, text: string) =>
  Effect.suspend(() => {
    const t = ctx.state.table
    if (t === undefined) return Effect.fail(ctx.failed("a row outside a table"))
    let row: unknown
    try {
      row = JSON.parse(text)
    } catch {
      return Effect.fail(ctx.failed(`a row of ${t.name} that is not JSON`))
    }
    if (!Array.isArray(row) || row.length !== t.columns || !row.every((v) => v === null || typeof v === "string")) {
      return Effect.fail(ctx.failed(`a row of ${t.name} is not ${t.columns} text values`))
    }
    t.rows += 1
    if (t.timeIndex >= 0 && Number(row[t.timeIndex]) > ctx.options.until!) return Effect.void
    t.batch.push(text)
    t.chars += text.length
    return t.batch.length >= batchRows || t.chars >= batchChars ? flush(ctx, t) : Effect.void
  })

const onHeader = (ctx: Context, header: Header) => {
  if (ctx.state.header !== undefined) return Effect.fail(ctx.failed("a second header"))
  if (header.backupId !== ctx.options.backupId || header.kind !== ctx.options.kind) {
    return Effect.fail(ctx.failed(`the plaintext is of ${header.kind} backup ${header.backupId}`))
  }
  if (header.schemaLevel > ctx.options.schemaLevel) {
    return Effect.fail(ctx.failed(`the backup's schema (migration ${header.schemaLevel}) is newer than this code's (${ctx.options.schemaLevel})`))
  }
  ctx.state.header = header
  return Effect.void
}

const onTrailer = (ctx: Context, tables: number, rows: number) => {
  const s = ctx.state
  if (s.table !== undefined) return Effect.fail(ctx.failed(`the trailer comes inside ${s.table.name}`))
  if (tables !== s.tables || rows !== s.rows) {
    return Effect.fail(ctx.failed(`the trailer counts ${tables} tables and ${rows} rows, the stream held ${s.tables} and ${s.rows}`))
  }
  s.trailer = true
  return Effect.void
}

const onControl = (ctx: Context, value: ControlLine): Effect.Effect<void, RestoreFailed> => {
  if (ctx.state.trailer) return Effect.fail(ctx.failed("lines after the trailer"))
  if ("format" in value) return onHeader(ctx, value)
  if (ctx.state.header === undefined) return Effect.fail(ctx.failed("no header"))
  if ("table" in value) return startTable(ctx, value.table, value.columns)
  if ("sequence" in value) {
    return Effect.zipRight(settle(ctx), Effect.asVoid(Effect.mapError(
      ctx.sql.unsafe(`SELECT setval(to_regclass($1), $2::bigint, $3)`, [ident(value.sequence), value.lastValue, value.isCalled]),
      ctx.onSql(`setting ${value.sequence}`)
    )))
  }
  if ("tables" in value) return onTrailer(ctx, value.tables, value.rows)
  return endTable(ctx, value.end, value.rows)
}

const onLine = (ctx: Context) => (text: string) => {
  if (text.startsWith("[")) return onRow(ctx, text)
  const parsed = Effect.try({ try: (): unknown => JSON.parse(text), catch: () => ctx.failed("a line that is not JSON") })
  return Effect.flatMap(parsed, (json) => {
    const control = decodeControl(json)
    return control._tag === "Left" ? Effect.fail(ctx.failed(`a line outside the format: ${text.slice(0, 80)}`)) : onControl(ctx, control.right)
  })
}

export const applySnapshot = <R>(lines: Stream.Stream<string, RestoreFailed, R>, options: ApplyOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const failed = (reason: string) => new RestoreFailed({ backup: options.backupId, shard: null, reason })
    const ctx: Context = {
      sql,
      options,
      state: { header: undefined, table: undefined, inFlight: undefined, trailer: false, tables: 0, rows: 0 },
      failed,
      onSql: (what) => (e) => failed(`${what}: ${String((e.cause as Error | undefined)?.message ?? e.message)}`)
    }
    // A failed line or shard ends the batch in flight too (cancelled), so the transaction can roll back at once.
    yield* Stream.runForEach(lines, onLine(ctx)).pipe(
      Effect.zipRight(settle(ctx)),
      Effect.onError(() => Effect.suspend(() => (ctx.state.inFlight === undefined ? Effect.void : Fiber.interrupt(ctx.state.inFlight))))
    )
    const { header, rows, tables, trailer } = ctx.state
    if (header === undefined || !trailer) return yield* Effect.fail(failed("the plaintext ends before its trailer"))
    return { header, tables, rows } satisfies Applied
  })
