/**
 * Postgres access for multi-factor sign-in; the statements live in
 * `store/MfaRows.ts`. `transaction` runs several of them as one (the
 * second sign-in step), and `insertSession` opens the session inside it.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as MfaRows from "./store/MfaRows.ts"
import { insertSession, type NewSession } from "./store/SessionRows.ts"

export type { BackupCodeUse, LockedChallenge, MfaFactors, NewChallenge, StoredTotp } from "./store/MfaRows.ts"

export class MfaStore extends Effect.Service<MfaStore>()("plexichat/MfaStore", {
  effect: Effect.map(SqlClient.SqlClient, (sql) => ({
    transaction: sql.withTransaction,
    insertSession: (session: NewSession) => insertSession(sql, session),
    findTotp: MfaRows.findTotp(sql),
    putPendingTotp: MfaRows.putPendingTotp(sql),
    confirmTotp: MfaRows.confirmTotp(sql),
    useTotpStep: MfaRows.useTotpStep(sql),
    useBackupCode: MfaRows.useBackupCode(sql),
    replaceBackupCodes: MfaRows.replaceBackupCodes(sql),
    disableMfa: MfaRows.disableMfa(sql),
    factors: MfaRows.factors(sql),
    createChallenge: MfaRows.createChallenge(sql),
    lockChallenge: MfaRows.lockChallenge(sql),
    failChallenge: MfaRows.failChallenge(sql),
    completeChallenge: MfaRows.completeChallenge(sql)
  }) as const)
}) {}
