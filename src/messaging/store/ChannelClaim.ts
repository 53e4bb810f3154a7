/**
 * The statements that give a Channel entity incarnation its fencing epoch:
 * claiming an existing channel and creating a new one. On a cluster both
 * succeed only while `plexi_shard_holders` names the claiming runner as the
 * holder of the channel's shard (src/entities/ShardHolding.ts).
 *
 * Why a claim can never win over the shard's new holder: the claim takes a
 * share lock on the shard's holder row before it touches the channel row, and
 * holds it until it commits. A runner that takes the shard over rewrites that
 * row (runtime/cluster/ShardHolders.ts) before any of its entities runs, and
 * its UPDATE waits for every claim that holds the share lock. So a claim by
 * the former holder either commits before the new holder's row does (and
 * every claim of the new holder comes after it, with a higher epoch), or it
 * locks the row after it changed (READ COMMITTED hands the locking read the
 * newest row version) and finds another runner's name: it claims nothing.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { Channel, Member, Role, Visibility } from "../../../domain/Channel.ts"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"

/** The epoch a channel's creator holds; each later claim increments it. */
export const CREATED_EPOCH = 1

/** The shard a claim must hold: its row in `plexi_shard_holders` must name `runner`. */
export interface ShardHold {
  /** The cluster's shard id (`ShardId.toString()`, e.g. `default:7`). */
  readonly shardId: string
  readonly runner: string
}

/** A channel read by a new incarnation of its entity, with the epoch it now holds. */
export interface ClaimedChannel {
  readonly channel: Channel
  readonly epoch: number
}

/** What a claim found: the channel (now claimed), no channel, or a shard this runner does not hold. */
export type Claim =
  | ({ readonly _tag: "Claimed" } & ClaimedChannel)
  | { readonly _tag: "Absent" }
  | { readonly _tag: "NotHeld" }

/** What a creation did. */
export type Creation = "Created" | "Taken" | "NotHeld"

const claimReturning = "RETURNING name, visibility, created_by, created_at, owner_epoch"

interface ClaimRow {
  readonly name: string
  readonly visibility: Visibility
  readonly created_by: string
  readonly created_at: string
  readonly owner_epoch: string
}

/**
 * The claim itself: one UPDATE. Its uncorrelated EXISTS is a one-time filter
 * that Postgres evaluates (taking the share lock of `hold`'s record) before
 * it scans the channel row.
 */
const claimRow = (sql: SqlClient.SqlClient, id: ChannelId, hold: Option.Option<ShardHold>) =>
  Option.isNone(hold)
    ? sql.unsafe<ClaimRow>(`UPDATE plexi_channels SET owner_epoch = owner_epoch + 1 WHERE id = $1 ${claimReturning}`, [id])
    : sql.unsafe<ClaimRow>(
      `UPDATE plexi_channels SET owner_epoch = owner_epoch + 1 WHERE id = $1
       AND EXISTS (SELECT 1 FROM plexi_shard_holders WHERE shard_id = $2 AND runner = $3 FOR SHARE) ${claimReturning}`,
      [id, hold.value.shardId, hold.value.runner]
    )

/** Why a claim with `hold` changed nothing: the record names another runner, or there is no channel. */
const whyNot = (sql: SqlClient.SqlClient, id: ChannelId, hold: ShardHold) =>
  Effect.map(
    sql<{ held: boolean; found: boolean }>`
      SELECT EXISTS (SELECT 1 FROM plexi_shard_holders WHERE shard_id = ${hold.shardId} AND runner = ${hold.runner}) AS held,
        EXISTS (SELECT 1 FROM plexi_channels WHERE id = ${id}) AS found`,
    (rows) => rows[0]!
  )

/** The claimed channel with its members. */
const claimed = (sql: SqlClient.SqlClient, id: ChannelId, row: ClaimRow) =>
  Effect.map(
    sql<{ user_id: string; role: Role }>`
      SELECT user_id, role FROM plexi_channel_members WHERE channel_id = ${id} ORDER BY joined_at, user_id`,
    (members): Claim => ({
      _tag: "Claimed",
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
  )

/**
 * Claims the channel for a new incarnation of its entity and reads it:
 * `owner_epoch` is incremented, and every later write carries the epoch
 * returned here. The UPDATE waits for writes that hold the channel row
 * (`FOR SHARE`) to commit, so the reads that follow see all of them, and
 * any write of an older incarnation after it is refused. A claim that
 * changed nothing asks why (a second statement, only then); if the answer
 * contradicts the claim (the channel or the record appeared in between),
 * it claims once more.
 */
export const claimChannel = (sql: SqlClient.SqlClient) =>
(id: ChannelId, hold: Option.Option<ShardHold>): Effect.Effect<Claim, SqlError> =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < 2; attempt++) {
      const rows = yield* claimRow(sql, id, hold)
      if (rows.length === 1) return yield* claimed(sql, id, rows[0]!)
      if (Option.isNone(hold)) return { _tag: "Absent" } as const
      const why = yield* whyNot(sql, id, hold.value)
      if (!why.held) return { _tag: "NotHeld" } as const
      if (!why.found) return { _tag: "Absent" } as const
    }
    return { _tag: "NotHeld" } as const
  })

/**
 * Creates the channel with its members; its creator holds epoch `CREATED_EPOCH`.
 * `Taken` when the id exists already, `NotHeld` (nothing written) when `hold`
 * no longer names this runner. One statement, so one round trip and atomic
 * without a transaction: `held` share-locks `hold`'s record (as a claim
 * does) until it commits, the channel row goes in only under that lock, and
 * the members only with the channel row.
 */
export const createChannel = (sql: SqlClient.SqlClient) =>
(channel: Channel, hold: Option.Option<ShardHold>): Effect.Effect<Creation, SqlError> => {
  const held = Option.isNone(hold)
    ? "SELECT 1"
    : "SELECT 1 FROM plexi_shard_holders WHERE shard_id = $8 AND runner = $9 FOR SHARE"
  return sql.unsafe<{ held: string | number; inserted: string | number }>(
    `WITH held AS MATERIALIZED (${held}),
     inserted AS (
       INSERT INTO plexi_channels (id, name, visibility, created_by, created_at, owner_epoch)
       SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, ${CREATED_EPOCH}::bigint
       WHERE EXISTS (SELECT 1 FROM held)
       ON CONFLICT (id) DO NOTHING RETURNING id),
     members AS (
       INSERT INTO plexi_channel_members (channel_id, user_id, role, joined_at)
       SELECT inserted.id, m.user_id, m.role, $5::bigint FROM inserted, unnest($6::text[], $7::text[]) AS m(user_id, role))
     SELECT (SELECT count(*) FROM held) AS held, (SELECT count(*) FROM inserted) AS inserted`,
    [
      channel.id,
      channel.name,
      channel.visibility,
      channel.createdBy,
      channel.createdAt,
      channel.members.map((m) => m.userId),
      channel.members.map((m) => m.role),
      ...Option.match(hold, { onNone: () => [], onSome: (h) => [h.shardId, h.runner] })
    ]
  ).pipe(Effect.map(([outcome]): Creation => {
    if (Number(outcome!.held) === 0) return "NotHeld"
    return Number(outcome!.inserted) === 0 ? "Taken" : "Created"
  }))
}
