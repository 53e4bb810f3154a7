/**
 * Postgres access for accounts and sessions; the statements live in
 * `store/` (`AccountRows`, `SessionRows`, `AdminRows`, `RevocationRows`),
 * like the messaging store's. Statements that end sessions also record them
 * for the other nodes (`plexi_revocations`) while their access tokens may be
 * alive: the access-token lifetime plus `REVOCATION_MARGIN_MS`.
 */
import { SqlClient } from "@effect/sql"
import { Duration, Effect } from "effect"
import { AuthConfig } from "./AuthConfig.ts"
import * as AccountRows from "./store/AccountRows.ts"
import * as AdminRows from "./store/AdminRows.ts"
import * as SessionRows from "./store/SessionRows.ts"

export type { NewAccount, Registration, StoredAccount } from "./store/AccountRows.ts"
export type { AdminOutcome, MfaRemoved, MfaResetOutcome } from "./store/AdminRows.ts"
export type { Device, NewSession, Refresh, Rotation } from "./store/SessionRows.ts"

/**
 * Covers the time between a session's last refresh (`last_seen_at`) and the
 * signing of the access token it got, and clocks a little apart.
 */
export const REVOCATION_MARGIN_MS = 60_000

export class AccountStore extends Effect.Service<AccountStore>()("plexichat/AccountStore", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { accessTtl } = yield* AuthConfig
    const windowMs = Duration.toMillis(accessTtl) + REVOCATION_MARGIN_MS
    return {
      /** Runs several statements (and the MFA proof that goes with them) as one transaction. */
      transaction: sql.withTransaction,
      findByUsername: AccountRows.findByUsername(sql),
      findByUserId: AccountRows.findByUserId(sql),
      register: AccountRows.register(sql),
      updatePasswordHash: AccountRows.updatePasswordHash(sql),
      setFirstPassword: AccountRows.setFirstPassword(sql),
      createSession: SessionRows.createSession(sql),
      rotate: SessionRows.rotate(sql, windowMs),
      revokeSession: SessionRows.revokeSession(sql, windowMs),
      revokeSessions: SessionRows.revokeSessions(sql, windowMs),
      listSessions: SessionRows.listSessions(sql),
      adminPrecheck: AdminRows.precheck(sql),
      disable: AdminRows.disable(sql, windowMs),
      enable: AdminRows.enable(sql),
      resetPassword: AdminRows.resetPassword(sql, windowMs),
      resetMfa: AdminRows.resetMfa(sql, windowMs)
    } as const
  })
}) {}
