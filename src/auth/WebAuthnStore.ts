/**
 * Postgres access for WebAuthn keys and challenges; the statements live in
 * `store/WebAuthnRows.ts`. `transaction` runs a ceremony's reads and writes
 * as one unit, so that a refused ceremony leaves every row as it was.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as WebAuthnRows from "./store/WebAuthnRows.ts"

export type { Ceremony, NewKey, StoredChallenge, StoredKey } from "./store/WebAuthnRows.ts"

export class WebAuthnStore extends Effect.Service<WebAuthnStore>()("plexichat/WebAuthnStore", {
  effect: Effect.map(SqlClient.SqlClient, (sql) => ({
    transaction: sql.withTransaction,
    insertChallenge: WebAuthnRows.insertChallenge(sql),
    takeChallenge: WebAuthnRows.takeChallenge(sql),
    findKeyForUpdate: WebAuthnRows.findKeyForUpdate(sql),
    findKeyOwner: WebAuthnRows.findKeyOwner(sql),
    keyDescriptors: WebAuthnRows.keyDescriptors(sql),
    lockAccountKeys: WebAuthnRows.lockAccountKeys(sql),
    insertKey: WebAuthnRows.insertKey(sql),
    recordUse: WebAuthnRows.recordUse(sql),
    listKeys: WebAuthnRows.listKeys(sql),
    deleteKey: WebAuthnRows.deleteKey(sql)
  }) as const)
}) {}
