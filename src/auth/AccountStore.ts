/**
 * Postgres access for accounts and sessions; the statements live in
 * `store/` (`AccountRows`, `SessionRows`), like the messaging store's.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as AccountRows from "./store/AccountRows.ts"
import * as SessionRows from "./store/SessionRows.ts"

export type { NewAccount, Registration, StoredAccount } from "./store/AccountRows.ts"
export type { Device, NewSession, Refresh, Rotation } from "./store/SessionRows.ts"

export class AccountStore extends Effect.Service<AccountStore>()("plexichat/AccountStore", {
  effect: Effect.map(SqlClient.SqlClient, (sql) => ({
    findByUsername: AccountRows.findByUsername(sql),
    findByUserId: AccountRows.findByUserId(sql),
    register: AccountRows.register(sql),
    updatePasswordHash: AccountRows.updatePasswordHash(sql),
    createSession: SessionRows.createSession(sql),
    rotate: SessionRows.rotate(sql),
    revokeSession: SessionRows.revokeSession(sql),
    revokeSessions: SessionRows.revokeSessions(sql),
    listSessions: SessionRows.listSessions(sql)
  }) as const)
}) {}
