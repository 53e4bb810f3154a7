/**
 * Audit statements (`plexi_audit_log`, `plexi_audit_head`). Appends take the
 * head row's lock, so appends from every node are serialised into one
 * gap-free chain; a batch is one transaction (lock, insert, move the head).
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { AuditEntry, AuditQuery } from "../../domain/Audit.ts"
import { type ChainInput, type ChainRow, extend, GENESIS } from "./AuditChain.ts"

interface Row {
  readonly seq: string | number
  readonly at: string | number
  readonly actor: string | null
  readonly action: string
  readonly target: string | null
  readonly ip: string | null
  readonly node: string
  readonly details: string
  readonly prev_hash: string
  readonly hash: string
}

export const toChainRow = (row: Row): ChainRow => ({
  seq: Number(row.seq),
  at: Number(row.at),
  actor: row.actor,
  action: row.action,
  target: row.target,
  ip: row.ip,
  node: row.node,
  details: row.details,
  prevHash: row.prev_hash,
  hash: row.hash
})

const parseDetails = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export const toEntry = (row: ChainRow): AuditEntry => ({ ...row, details: parseDetails(row.details) })

/**
 * Appends `events`, in order, at the end of the chain. Inside a caller's
 * transaction (`sql.withTransaction` nests as a savepoint) it commits or
 * rolls back with the caller's own writes.
 */
export const append = (sql: SqlClient.SqlClient) => (events: ReadonlyArray<ChainInput>): Effect.Effect<number, SqlError> =>
  events.length === 0 ? Effect.succeed(0) : sql.withTransaction(Effect.gen(function*() {
    const heads = yield* sql<{ seq: string | number; hash: string }>`SELECT seq, hash FROM plexi_audit_head WHERE id = 1 FOR UPDATE`
    const head = heads[0]!
    const rows = extend({ seq: Number(head.seq), hash: head.hash }, events)
    yield* sql`INSERT INTO plexi_audit_log ${
      sql.insert(rows.map((r) => ({
        seq: r.seq,
        at: r.at,
        actor: r.actor,
        action: r.action,
        target: r.target,
        ip: r.ip,
        node: r.node,
        details: r.details,
        prev_hash: r.prevHash,
        hash: r.hash
      })))
    }`
    const last = rows[rows.length - 1]!
    yield* sql`UPDATE plexi_audit_head SET seq = ${last.seq}, hash = ${last.hash} WHERE id = 1`
    return rows.length
  }))

/** Entries matching `q`, oldest first. */
export const query = (sql: SqlClient.SqlClient) => (q: AuditQuery): Effect.Effect<Array<AuditEntry>, SqlError> => {
  const where = [
    sql`seq > ${q.afterSeq ?? 0}`,
    ...(q.actor === undefined ? [] : [sql`actor = ${q.actor}`]),
    ...(q.action === undefined ? [] : [sql`action = ${q.action}`]),
    ...(q.since === undefined ? [] : [sql`at >= ${q.since}`]),
    ...(q.until === undefined ? [] : [sql`at < ${q.until}`])
  ]
  return Effect.map(
    sql<Row>`SELECT seq, at, actor, action, target, ip, node, details, prev_hash, hash FROM plexi_audit_log
      WHERE ${sql.and(where)} ORDER BY seq LIMIT ${q.limit ?? 100}`,
    (rows) => rows.map((r) => toEntry(toChainRow(r)))
  )
}

/** Up to `limit` rows after `afterSeq` in seq order, as stored (for verification). */
export const page = (sql: SqlClient.SqlClient) => (afterSeq: number, limit: number): Effect.Effect<Array<ChainRow>, SqlError> =>
  Effect.map(
    sql<Row>`SELECT seq, at, actor, action, target, ip, node, details, prev_hash, hash FROM plexi_audit_log
      WHERE seq > ${afterSeq} ORDER BY seq LIMIT ${limit}`,
    (rows) => rows.map(toChainRow)
  )

/** The chain's head as the head row records it. */
export const head = (sql: SqlClient.SqlClient): Effect.Effect<{ readonly seq: number; readonly hash: string }, SqlError> =>
  Effect.map(
    sql<{ seq: string | number; hash: string }>`SELECT seq, hash FROM plexi_audit_head WHERE id = 1`,
    (rows) => ({ seq: Number(rows[0]?.seq ?? 0), hash: rows[0]?.hash ?? "" })
  )

/** The newest entry of the log and what the head row records, read together (one statement, one snapshot). */
export interface LogHead {
  /** The newest entry's seq and hash (0 and the genesis hash for an empty log), and its time (null when empty). */
  readonly seq: number
  readonly hash: string
  readonly at: number | null
  /** What `plexi_audit_head` records; the same as the newest entry unless someone changed the rows outside the log. */
  readonly recorded: { readonly seq: number; readonly hash: string }
}

export const newest = (sql: SqlClient.SqlClient): Effect.Effect<LogHead, SqlError> =>
  Effect.map(
    sql<{ head_seq: string | number; head_hash: string; seq: string | number | null; hash: string | null; at: string | number | null }>`
      SELECT h.seq AS head_seq, h.hash AS head_hash, l.seq, l.hash, l.at FROM plexi_audit_head h
      LEFT JOIN LATERAL (SELECT seq, hash, at FROM plexi_audit_log ORDER BY seq DESC LIMIT 1) l ON true WHERE h.id = 1`,
    (rows) => {
      const row = rows[0]
      const recorded = { seq: Number(row?.head_seq ?? 0), hash: row?.head_hash ?? GENESIS }
      return row?.seq === null || row?.seq === undefined
        ? { seq: 0, hash: GENESIS, at: null, recorded }
        : { seq: Number(row.seq), hash: row.hash!, at: Number(row.at), recorded }
    }
  )
