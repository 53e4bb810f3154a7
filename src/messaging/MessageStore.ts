/**
 * Postgres access for channels, members, users and messages. Every query the
 * entities run goes through here, so the SQL dialect lives in one file.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { Channel, Member, Message, Role, Visibility } from "../../domain/Channel.ts"
import { type ChannelId, messageIdOf, type UserId } from "../../domain/Ids.ts"

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

export class MessageStore extends Effect.Service<MessageStore>()("plexichat/MessageStore", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const loadChannel = (id: ChannelId): Effect.Effect<Option.Option<Channel>, SqlError> =>
      Effect.gen(function*() {
        const rows = yield* sql<{ name: string; visibility: Visibility; created_by: string; created_at: string }>`
          SELECT name, visibility, created_by, created_at FROM plexi_channels WHERE id = ${id}`
        if (rows.length === 0) return Option.none()
        const members = yield* sql<{ user_id: string; role: Role }>`
          SELECT user_id, role FROM plexi_channel_members WHERE channel_id = ${id} ORDER BY joined_at, user_id`
        const row = rows[0]!
        return Option.some<Channel>({
          id,
          name: row.name,
          visibility: row.visibility,
          createdBy: row.created_by as UserId,
          createdAt: Number(row.created_at),
          members: members.map((m): Member => ({ userId: m.user_id as UserId, role: m.role }))
        })
      })

    const createChannel = (channel: Channel) =>
      sql.withTransaction(Effect.gen(function*() {
        const inserted = yield* sql`
          INSERT INTO plexi_channels (id, name, visibility, created_by, created_at)
          VALUES (${channel.id}, ${channel.name}, ${channel.visibility}, ${channel.createdBy}, ${channel.createdAt})
          ON CONFLICT (id) DO NOTHING RETURNING id`
        if (inserted.length === 0) return false
        for (const member of channel.members) {
          yield* sql`
            INSERT INTO plexi_channel_members (channel_id, user_id, role, joined_at)
            VALUES (${channel.id}, ${member.userId}, ${member.role}, ${channel.createdAt})`
        }
        return true
      }))

    const upsertMember = (channelId: ChannelId, userId: UserId, role: Role) =>
      sql`
        INSERT INTO plexi_channel_members (channel_id, user_id, role, joined_at)
        VALUES (${channelId}, ${userId}, ${role}, ${Date.now()})
        ON CONFLICT (channel_id, user_id) DO UPDATE SET role = EXCLUDED.role`.pipe(Effect.asVoid)

    const removeMember = (channelId: ChannelId, userId: UserId) =>
      sql`DELETE FROM plexi_channel_members WHERE channel_id = ${channelId} AND user_id = ${userId}`.pipe(
        Effect.asVoid
      )

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
     * One multi-row INSERT for any number of messages (one statement, so it
     * commits or fails as a whole). `unnest` keeps it at six parameters
     * whatever the batch size.
     */
    const insertMessages = (rows: ReadonlyArray<Message>) =>
      sql.unsafe(
        `INSERT INTO plexi_messages (${messageColumns})
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[])`,
        [
          rows.map((m) => m.channelId),
          rows.map((m) => m.seq),
          rows.map((m) => m.authorId),
          rows.map((m) => m.clientMsgId),
          rows.map((m) => m.body),
          rows.map((m) => m.createdAt)
        ]
      ).pipe(Effect.asVoid)

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
      loadChannel,
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
