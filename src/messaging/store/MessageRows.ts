/**
 * Message statements: reads of recent messages, ranges and idempotency keys,
 * and the fenced group-commit INSERT.
 */
import type { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Exit } from "effect"
import type Pg from "pg"
import type { Message } from "../../../domain/Channel.ts"
import { type ChannelId, messageIdOf, type UserId } from "../../../domain/Ids.ts"

/** The rows of one request (one channel), written only while the channel still has `epoch`. */
export interface FencedRows {
  readonly channelId: ChannelId
  readonly epoch: number
  readonly rows: ReadonlyArray<Message>
}

interface MessageRow {
  readonly channel_id: string
  readonly seq: string | number
  readonly author_id: string
  readonly client_msg_id: string
  readonly body: string
  readonly created_at: string | number
}

const toMessage = (row: MessageRow): Message => {
  const channelId = row.channel_id as ChannelId
  const seq = Number(row.seq)
  return {
    id: messageIdOf(channelId, seq),
    channelId,
    seq,
    authorId: row.author_id as UserId,
    body: row.body,
    clientMsgId: row.client_msg_id,
    createdAt: Number(row.created_at)
  }
}

const messageColumns = "channel_id, seq, author_id, client_msg_id, body, created_at"

/**
 * True when Postgres refused the statement because of a value in it (an
 * invalid character or byte sequence, a value out of range, a CHECK or NOT
 * NULL constraint, a value too large): the statement did not commit, and
 * the same rows would be refused again. Uniqueness violations are not among
 * them (they mean stale state), nor are connection or server failures,
 * whose outcome is unknown.
 */
export const isRowRefused = (error: SqlError): boolean => {
  const code = (error.cause as { readonly code?: unknown } | null | undefined)?.code
  if (typeof code !== "string") return false
  return code.startsWith("22") || code === "23502" || code === "23514" || code.startsWith("54")
}

const distinctFences = (requests: ReadonlyArray<FencedRows>): ReadonlyArray<FencedRows> => {
  const seen = new Map<string, FencedRows>()
  for (const r of requests) seen.set(`${r.channelId}\u0000${r.epoch}`, r)
  return Array.from(seen.values())
}

/** The last `limit` messages, oldest first. */
export const recent = (sql: SqlClient.SqlClient) => (channelId: ChannelId, limit: number) =>
  sql.unsafe<MessageRow>(
    `SELECT ${messageColumns} FROM plexi_messages WHERE channel_id = $1 ORDER BY seq DESC LIMIT $2`,
    [channelId, limit]
  ).pipe(Effect.map((rows) => rows.map(toMessage).reverse()))

/** Messages with `afterSeq < seq <= upTo`, oldest first, at most `limit`. */
export const range = (sql: SqlClient.SqlClient) => (channelId: ChannelId, afterSeq: number, limit: number, upTo = Number.MAX_SAFE_INTEGER) =>
  sql.unsafe<MessageRow>(
    `SELECT ${messageColumns} FROM plexi_messages
     WHERE channel_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
    [channelId, afterSeq, upTo, limit]
  ).pipe(Effect.map((rows) => rows.map(toMessage)))

/** The already-committed messages among `(authorId, clientMsgId)` pairs. */
export const findByClientIds = (sql: SqlClient.SqlClient) => (
  channelId: ChannelId,
  keys: ReadonlyArray<{ readonly authorId: UserId; readonly clientMsgId: string }>
) =>
  sql.unsafe<MessageRow>(
    `SELECT ${messageColumns} FROM plexi_messages
     WHERE channel_id = $1 AND (author_id, client_msg_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
    [channelId, keys.map((k) => k.authorId), keys.map((k) => k.clientMsgId)]
  ).pipe(Effect.map((rows) => rows.map(toMessage)))

/**
 * One multi-row INSERT for the messages of several channels (one
 * statement, so it commits or fails as a whole); `unnest` keeps it at
 * nine parameters whatever the batch size. Fencing: a request's rows go
 * in only while its channel row still has the request's epoch, and that
 * row is locked `FOR SHARE` until the commit, so a concurrent claim
 * (`claimChannel`) waits for this statement; a claim that commits first
 * makes the lock re-check the row (READ COMMITTED re-evaluation) and
 * exclude it. Its result rows name the fences that held (`writtenOf`).
 */
const insertText = `WITH fence AS (
       SELECT c.id, c.owner_epoch FROM plexi_channels c
       JOIN unnest($7::text[], $8::bigint[]) AS f(id, epoch) ON c.id = f.id AND c.owner_epoch = f.epoch
       FOR SHARE OF c),
     inserted AS (
       INSERT INTO plexi_messages (${messageColumns})
       SELECT m.channel_id, m.seq, m.author_id, m.client_msg_id, m.body, m.created_at
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $9::bigint[])
         AS m(channel_id, seq, author_id, client_msg_id, body, created_at, epoch)
       JOIN fence ON fence.id = m.channel_id AND fence.owner_epoch = m.epoch)
     SELECT id, owner_epoch FROM fence`

interface FenceRow {
  readonly id: string
  readonly owner_epoch: string | number
}

const insertValues = (requests: ReadonlyArray<FencedRows>) => {
  const rows = requests.length === 1 ? requests[0]!.rows : requests.flatMap((r) => r.rows)
  // One fence row per (channel, epoch): a duplicate would join the rows twice.
  const fences = requests.length === 1 ? requests : distinctFences(requests)
  return [
    rows.map((m) => m.channelId),
    rows.map((m) => m.seq),
    rows.map((m) => m.authorId),
    rows.map((m) => m.clientMsgId),
    rows.map((m) => m.body),
    rows.map((m) => m.createdAt),
    fences.map((f) => f.channelId),
    fences.map((f) => f.epoch),
    requests.flatMap((r) => r.rows.map(() => r.epoch))
  ]
}

/** Per request, whether its rows were written (its fence is among the statement's result rows). */
const writtenOf = (requests: ReadonlyArray<FencedRows>, ok: ReadonlyArray<FenceRow>) => {
  const written = new Set(ok.map((r) => `${r.id}\u0000${Number(r.owner_epoch)}`))
  return requests.map((r) => written.has(`${r.channelId}\u0000${r.epoch}`))
}

/** The fenced INSERT through `@effect/sql`. Returns, per request, whether its rows were written. */
export const insertMessages = (sql: SqlClient.SqlClient) => (requests: ReadonlyArray<FencedRows>) =>
  sql.unsafe<FenceRow>(insertText, insertValues(requests)).pipe(Effect.map((ok) => writtenOf(requests, ok)))

/** How an INSERT without a fiber ended: per request, whether its rows were written; or the statement's error. */
export type InsertExit = Exit.Exit<ReadonlyArray<boolean>, SqlError>

/**
 * The same statement on the `pg` pool, from callbacks: the group-commit
 * writer runs it per batch, and thin traffic pays a batch every few
 * messages, where `@effect/sql`'s fiber, spans and connection effects cost
 * more than the statement's own client work. The connection is handled as
 * `@effect/sql-pg` handles it: given back after a statement that failed (the
 * connection is fine), dropped after a connection error. `done` is called
 * exactly once.
 */
export const insertMessagesNow = (pool: Pg.Pool) => (requests: ReadonlyArray<FencedRows>, done: (exit: InsertExit) => void) => {
  let values: Array<ReadonlyArray<unknown>>
  try {
    values = insertValues(requests)
  } catch (cause) {
    return done(Exit.die(cause))
  }
  pool.connect((cause, client, release) => {
    if (cause || client === undefined) {
      return done(Exit.fail(new SqlError({ cause: cause ?? new Error("No client returned"), message: "Failed to acquire connection" })))
    }
    let answered = false
    const onError = (error: Error) => {
      if (answered) return
      answered = true
      release(error)
      done(Exit.fail(new SqlError({ cause: error, message: "Connection error" })))
    }
    client.once("error", onError)
    client.query<FenceRow>(insertText, values, (error, result) => {
      if (answered) return
      answered = true
      client.off("error", onError)
      release()
      done(error ? Exit.fail(new SqlError({ cause: error, message: "Failed to execute statement" })) : Exit.succeed(writtenOf(requests, result.rows)))
    })
  })
}
