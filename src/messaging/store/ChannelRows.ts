/**
 * Channel and membership statements. Every write is fenced: it applies only
 * while the channel row still has the writer's `owner_epoch`.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { Channel, Member, Role, Visibility } from "../../../domain/Channel.ts"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"
import { ChannelFenced } from "../ChannelFenced.ts"

/** The epoch a channel's creator holds; each later claim increments it. */
export const CREATED_EPOCH = 1

/** A channel read by a new incarnation of its entity, with the epoch it now holds. */
export interface ClaimedChannel {
  readonly channel: Channel
  readonly epoch: number
}

/**
 * Claims the channel for a new incarnation of its entity and reads it:
 * `owner_epoch` is incremented, and every later write carries the epoch
 * returned here. The UPDATE waits for writes that hold the channel row
 * (`FOR SHARE`) to commit, so the reads that follow see all of them, and
 * any write of an older incarnation after it is refused.
 */
export const claimChannel = (sql: SqlClient.SqlClient) => (id: ChannelId): Effect.Effect<Option.Option<ClaimedChannel>, SqlError> =>
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
export const createChannel = (sql: SqlClient.SqlClient) => (channel: Channel) =>
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
export const upsertMember = (sql: SqlClient.SqlClient) => (channelId: ChannelId, epoch: number, userId: UserId, role: Role, joinedAt: number) =>
  sql<{ n: string | number }>`
    WITH fence AS (SELECT id FROM plexi_channels WHERE id = ${channelId} AND owner_epoch = ${epoch} FOR SHARE),
    upserted AS (
      INSERT INTO plexi_channel_members (channel_id, user_id, role, joined_at)
      SELECT id, ${userId}, ${role}, ${joinedAt} FROM fence
      ON CONFLICT (channel_id, user_id) DO UPDATE SET role = EXCLUDED.role)
    SELECT count(*) AS n FROM fence`.pipe(Effect.flatMap(fenced(channelId, epoch)))

/** Removes the member, if the channel still has `epoch`. */
export const removeMember = (sql: SqlClient.SqlClient) => (channelId: ChannelId, epoch: number, userId: UserId) =>
  sql<{ n: string | number }>`
    WITH fence AS (SELECT id FROM plexi_channels WHERE id = ${channelId} AND owner_epoch = ${epoch} FOR SHARE),
    removed AS (
      DELETE FROM plexi_channel_members WHERE channel_id IN (SELECT id FROM fence) AND user_id = ${userId})
    SELECT count(*) AS n FROM fence`.pipe(Effect.flatMap(fenced(channelId, epoch)))
