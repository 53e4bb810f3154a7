/**
 * Postgres access for channels, members, users and messages. Every query the
 * entities run goes through here; the statements live in `store/`
 * (`ChannelClaim`, `ChannelRows`, `MessageRows`, `UserRows`), so the SQL
 * dialect stays in one folder.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option, Runtime } from "effect"
import * as ChannelClaim from "./store/ChannelClaim.ts"
import * as ChannelRows from "./store/ChannelRows.ts"
import * as MessageRows from "./store/MessageRows.ts"
import * as UserRows from "./store/UserRows.ts"
import { PgPool } from "./store/PgPool.ts"

export { type Claim, type ClaimedChannel, CREATED_EPOCH, type Creation, type ShardHold } from "./store/ChannelClaim.ts"
export { type FencedRows, type InsertExit, isRowRefused } from "./store/MessageRows.ts"
export type { StoredProfile } from "./store/UserRows.ts"

type Insert = (requests: ReadonlyArray<MessageRows.FencedRows>) => Effect.Effect<ReadonlyArray<boolean>, SqlError>

/**
 * `insert` from callbacks, one fiber per statement: the INSERT without a fiber when no `pg` pool is at hand, and
 * what a store wrapped around `insertMessages` (a test's spy) gives as its `insertMessagesNow`.
 */
export const insertNowVia = (insert: Insert) =>
  Effect.map(Effect.runtime<never>(), (runtime) => {
    const run = Runtime.runCallback(runtime)
    return (requests: ReadonlyArray<MessageRows.FencedRows>, done: (exit: MessageRows.InsertExit) => void) =>
      void run(insert(requests), { onExit: done })
  })

export class MessageStore extends Effect.Service<MessageStore>()("plexichat/MessageStore", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const pool = yield* Effect.serviceOption(PgPool)
    const insertMessages = MessageRows.insertMessages(sql)
    return {
      claimChannel: ChannelClaim.claimChannel(sql),
      createChannel: ChannelClaim.createChannel(sql),
      upsertMember: ChannelRows.upsertMember(sql),
      removeMember: ChannelRows.removeMember(sql),
      updateSettings: ChannelRows.updateSettings(sql),
      recent: MessageRows.recent(sql),
      range: MessageRows.range(sql),
      findByClientIds: MessageRows.findByClientIds(sql),
      insertMessages,
      /** `insertMessages` for callers outside Effect (the group-commit writer): `done` is called exactly once. */
      insertMessagesNow: Option.isSome(pool) ? MessageRows.insertMessagesNow(pool.value) : yield* insertNowVia(insertMessages),
      upsertUser: UserRows.upsertUser(sql),
      loadProfile: UserRows.loadProfile(sql),
      channelsOf: UserRows.channelsOf(sql)
    } as const
  })
}) {}
