/**
 * Postgres access for channels, members, users and messages. Every query the
 * entities run goes through here; the statements live in `store/`
 * (`ChannelClaim`, `ChannelRows`, `MessageRows`, `UserRows`), so the SQL
 * dialect stays in one folder.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as ChannelClaim from "./store/ChannelClaim.ts"
import * as ChannelRows from "./store/ChannelRows.ts"
import * as MessageRows from "./store/MessageRows.ts"
import * as UserRows from "./store/UserRows.ts"

export { type Claim, type ClaimedChannel, CREATED_EPOCH, type Creation, type ShardHold } from "./store/ChannelClaim.ts"
export { type FencedRows, isRowRefused } from "./store/MessageRows.ts"
export type { StoredProfile } from "./store/UserRows.ts"

export class MessageStore extends Effect.Service<MessageStore>()("plexichat/MessageStore", {
  effect: Effect.map(SqlClient.SqlClient, (sql) => ({
    claimChannel: ChannelClaim.claimChannel(sql),
    createChannel: ChannelClaim.createChannel(sql),
    upsertMember: ChannelRows.upsertMember(sql),
    removeMember: ChannelRows.removeMember(sql),
    updateSettings: ChannelRows.updateSettings(sql),
    recent: MessageRows.recent(sql),
    range: MessageRows.range(sql),
    findByClientIds: MessageRows.findByClientIds(sql),
    insertMessages: MessageRows.insertMessages(sql),
    upsertUser: UserRows.upsertUser(sql),
    loadProfile: UserRows.loadProfile(sql),
    channelsOf: UserRows.channelsOf(sql)
  }) as const)
}) {}
