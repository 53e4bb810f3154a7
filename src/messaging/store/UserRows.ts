/**
 * User statements.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"

/** A user's profile row. */
export interface StoredProfile {
  readonly id: UserId
  readonly displayName: string
  readonly createdAt: number
}

export const upsertUser = (sql: SqlClient.SqlClient) => (id: UserId, displayName: Option.Option<string>) =>
  sql<{ display_name: string; created_at: string }>`
    INSERT INTO plexi_users (id, display_name, created_at)
    VALUES (${id}, ${Option.getOrElse(displayName, () => id)}, ${Date.now()})
    ON CONFLICT (id) DO UPDATE SET display_name = ${
    Option.match(displayName, { onNone: () => sql`plexi_users.display_name`, onSome: (name) => sql`${name}` })
  }
    RETURNING display_name, created_at`.pipe(Effect.map((rows) => rows[0]!))

export const loadProfile = (sql: SqlClient.SqlClient) => (id: UserId): Effect.Effect<Option.Option<StoredProfile>, SqlError> =>
  Effect.map(
    sql<{ display_name: string; created_at: string }>`SELECT display_name, created_at FROM plexi_users WHERE id = ${id}`,
    (rows) =>
      rows.length === 0 ? Option.none() : Option.some({ id, displayName: rows[0]!.display_name, createdAt: Number(rows[0]!.created_at) })
  )

/** The channels the user is a member of, sorted (in JavaScript's order, whatever the database's collation). */
export const channelsOf = (sql: SqlClient.SqlClient) => (id: UserId): Effect.Effect<Array<ChannelId>, SqlError> =>
  Effect.map(
    sql<{ channel_id: string }>`SELECT channel_id FROM plexi_channel_members WHERE user_id = ${id}`,
    (rows) => rows.map((r) => r.channel_id as ChannelId).sort()
  )
