/**
 * Membership and settings statements. Every write is fenced: it applies only while the
 * channel row still has the writer's `owner_epoch` (claimed in ChannelClaim.ts).
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { Role, Visibility } from "../../../domain/Channel.ts"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"
import { ChannelFenced } from "../ChannelFenced.ts"

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

/** Sets the channel's name and visibility (one statement, so atomic), if the channel still has `epoch`. */
export const updateSettings = (sql: SqlClient.SqlClient) => (channelId: ChannelId, epoch: number, name: string, visibility: Visibility) =>
  sql<{ n: string | number }>`
    WITH updated AS (
      UPDATE plexi_channels SET name = ${name}, visibility = ${visibility}
      WHERE id = ${channelId} AND owner_epoch = ${epoch} RETURNING id)
    SELECT count(*) AS n FROM updated`.pipe(Effect.flatMap(fenced(channelId, epoch)))
