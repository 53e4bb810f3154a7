/**
 * User statements.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"

export interface StoredUser {
  readonly id: UserId
  readonly displayName: string
  readonly createdAt: number
  readonly channels: ReadonlyArray<ChannelId>
}

export const upsertUser = (sql: SqlClient.SqlClient) => (id: UserId, displayName: Option.Option<string>) =>
  sql<{ display_name: string; created_at: string }>`
    INSERT INTO plexi_users (id, display_name, created_at)
    VALUES (${id}, ${Option.getOrElse(displayName, () => id)}, ${Date.now()})
    ON CONFLICT (id) DO UPDATE SET display_name = ${
    Option.match(displayName, { onNone: () => sql`plexi_users.display_name`, onSome: (name) => sql`${name}` })
  }
    RETURNING display_name, created_at`.pipe(Effect.map((rows) => rows[0]!))

export const loadUser = (sql: SqlClient.SqlClient) => (id: UserId): Effect.Effect<Option.Option<StoredUser>, SqlError> =>
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
