/**
 * Postgres access for channels, members, users and messages. Every query the
 * entities run goes through here, so the SQL dialect lives in one file.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { Channel, Member, Message, Role, Visibility } from "../../domain/Channel.ts"
import { type ChannelId, messageIdOf, type UserId } from "../../domain/Ids.ts"
import { ChannelFenced } from "./ChannelFenced.ts"

/** The epoch a channel's creator holds; each later claim increments it. */
export const CREATED_EPOCH = 1

/** A channel read by a new incarnation of its entity, with the epoch it now holds. */
export interface ClaimedChannel {
  readonly channel: Channel
  readonly epoch: number
}

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

export interface StoredUser {
  readonly id: UserId
  readonly displayName: string
  readonly createdAt: number
  readonly channels: ReadonlyArray<ChannelId>
}

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

export class MessageStore extends Effect.Service<MessageStore>()("plexichat/MessageStore", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /**
     * Claims the channel for a new incarnation of its entity and reads it:
     * `owner_epoch` is incremented, and every later write carries the epoch
     * returned here. The UPDATE waits for writes that hold the channel row
     * (`FOR SHARE`) to commit, so the reads that follow see all of them, and
     * any write of an older incarnation after it is refused.
     */
    const claimChannel = (id: ChannelId): Effect.Effect<Option.Option<ClaimedChannel>, SqlError> =>
      Effect.gen(function*() {
        const rows = yield* sql<
          { name: string; visibility: Visibility; created_by: string; created_at: string; owner_epoch: string }
        >`
          UPDATE plexi_channels SET owner_epoch = owner_epoch + 1 WHERE id = ${id}
          RETURNING name, visibility, created_by, created_at, owner_epoch`
        if (rows.length === 0) return Option.none()
        const members = yield* sql<{ user_id: string; role: Role }>`
          SELECT user_id, role FROM plexi_channel_members WHERE channel_id = ${id} ORDER BY joined_at, user_id`
        const row = rows[0]!
        return Option.some({
          epoch: Number(row.owner_epoch),
          channel: {
            id,
            name: row.name,
            visibility: row.visibility,
            createdBy: row.created_by as UserId,
            createdAt: Number(row.created_at),
            members: members.map((m): Member => ({ userId: m.user_id as UserId, role: m.role }))
          }
        })
      })

    /** Creates the channel (false when the id is taken); its creator holds epoch `CREATED_EPOCH`. */
    const createChannel = (channel: Channel) =>
      sql.withTransaction(Effect.gen(function*() {
        const inserted = yield* sql`
          INSERT INTO plexi_channels (id, name, visibility, created_by, created_at, owner_epoch)
          VALUES (${channel.id}, ${channel.name}, ${channel.visibility}, ${channel.createdBy}, ${channel.createdAt},
            ${CREATED_EPOCH})
          ON CONFLICT (id) DO NOTHING RETURNING id`
        if (inserted.length === 0) return false
        for (const member of channel.members) {
          yield* sql`
            INSERT INTO plexi_channel_members (channel_id, user_id, role, joined_at)
            VALUES (${channel.id}, ${member.userId}, ${member.role}, ${channel.createdAt})`
        }
        return true
      }))

    /** Fails `ChannelFenced` when the channel no longer has `epoch` (the statement then changed nothing). */
    const fenced = (channelId: ChannelId, epoch: number) => (rows: ReadonlyArray<{ readonly n: string | number }>) =>
      Number(rows[0]?.n ?? 0) === 1 ? Effect.void : Effect.fail(new ChannelFenced({ channelId, epoch }))

    /** Adds the member or changes its role, if the channel still has `epoch`. */
    const upsertMember = (channelId: ChannelId, epoch: number, userId: UserId, role: Role, joinedAt: number) =>
      sql<{ n: string | number }>`
        WITH fence AS (SELECT id FROM plexi_channels WHERE id = ${channelId} AND owner_epoch = ${epoch} FOR SHARE),
        upserted AS (
          INSERT INTO plexi_channel_members (channel_id, user_id, role, joined_at)
          SELECT id, ${userId}, ${role}, ${joinedAt} FROM fence
          ON CONFLICT (channel_id, user_id) DO UPDATE SET role = EXCLUDED.role)
        SELECT count(*) AS n FROM fence`.pipe(Effect.flatMap(fenced(channelId, epoch)))

    /** Removes the member, if the channel still has `epoch`. */
    const removeMember = (channelId: ChannelId, epoch: number, userId: UserId) =>
      sql<{ n: string | number }>`
        WITH fence AS (SELECT id FROM plexi_channels WHERE id = ${channelId} AND owner_epoch = ${epoch} FOR SHARE),
        removed AS (
          DELETE FROM plexi_channel_members WHERE channel_id IN (SELECT id FROM fence) AND user_id = ${userId})
        SELECT count(*) AS n FROM fence`.pipe(Effect.flatMap(fenced(channelId, epoch)))

    /** The last `limit` messages, oldest first. */
    const recent = (channelId: ChannelId, limit: number) =>
      sql.unsafe<MessageRow>(
        `SELECT ${messageColumns} FROM plexi_messages WHERE channel_id = $1 ORDER BY seq DESC LIMIT $2`,
        [channelId, limit]
      ).pipe(Effect.map((rows) => rows.map(toMessage).reverse()))

    /** Messages with `afterSeq < seq <= upTo`, oldest first, at most `limit`. */
    const range = (channelId: ChannelId, afterSeq: number, limit: number, upTo = Number.MAX_SAFE_INTEGER) =>
      sql.unsafe<MessageRow>(
        `SELECT ${messageColumns} FROM plexi_messages
         WHERE channel_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
        [channelId, afterSeq, upTo, limit]
      ).pipe(Effect.map((rows) => rows.map(toMessage)))

    /** The already-committed messages among `(authorId, clientMsgId)` pairs. */
    const findByClientIds = (
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
     * exclude it. Returns, per request, whether its rows were written.
     */
    const insertMessages = (requests: ReadonlyArray<FencedRows>) => {
      const rows = requests.length === 1 ? requests[0]!.rows : requests.flatMap((r) => r.rows)
      // One fence row per (channel, epoch): a duplicate would join the rows twice.
      const fences = requests.length === 1 ? requests : distinctFences(requests)
      return sql.unsafe<{ id: string; owner_epoch: string | number }>(
        `WITH fence AS (
           SELECT c.id, c.owner_epoch FROM plexi_channels c
           JOIN unnest($7::text[], $8::bigint[]) AS f(id, epoch) ON c.id = f.id AND c.owner_epoch = f.epoch
           FOR SHARE OF c),
         inserted AS (
           INSERT INTO plexi_messages (${messageColumns})
           SELECT m.channel_id, m.seq, m.author_id, m.client_msg_id, m.body, m.created_at
           FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $9::bigint[])
             AS m(channel_id, seq, author_id, client_msg_id, body, created_at, epoch)
           JOIN fence ON fence.id = m.channel_id AND fence.owner_epoch = m.epoch)
         SELECT id, owner_epoch FROM fence`,
        [
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
      ).pipe(Effect.map((ok) => {
        const written = new Set(ok.map((r) => `${r.id}\u0000${Number(r.owner_epoch)}`))
        return requests.map((r) => written.has(`${r.channelId}\u0000${r.epoch}`))
      }))
    }

    const upsertUser = (id: UserId, displayName: Option.Option<string>) =>
      sql<{ display_name: string; created_at: string }>`
        INSERT INTO plexi_users (id, display_name, created_at)
        VALUES (${id}, ${Option.getOrElse(displayName, () => id)}, ${Date.now()})
        ON CONFLICT (id) DO UPDATE SET display_name = ${
        Option.match(displayName, { onNone: () => sql`plexi_users.display_name`, onSome: (name) => sql`${name}` })
      }
        RETURNING display_name, created_at`.pipe(Effect.map((rows) => rows[0]!))

    const loadUser = (id: UserId): Effect.Effect<Option.Option<StoredUser>, SqlError> =>
      Effect.gen(function*() {
        const rows = yield* sql<{ display_name: string; created_at: string }>`
          SELECT display_name, created_at FROM plexi_users WHERE id = ${id}`
        if (rows.length === 0) return Option.none()
        const channels = yield* sql<{ channel_id: string }>`
          SELECT channel_id FROM plexi_channel_members WHERE user_id = ${id} ORDER BY channel_id`
        return Option.some({
          id,
          displayName: rows[0]!.display_name,
          createdAt: Number(rows[0]!.created_at),
          channels: channels.map((c) => c.channel_id as ChannelId)
        })
      })

    return {
      claimChannel,
      createChannel,
      upsertMember,
      removeMember,
      recent,
      range,
      findByClientIds,
      insertMessages,
      upsertUser,
      loadUser
    } as const
  })
}) {}
