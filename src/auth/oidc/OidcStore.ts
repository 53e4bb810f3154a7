/** Postgres access for OpenID Connect sign-in; the statements live in `store/OidcRows.ts`. */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as OidcRows from "../store/OidcRows.ts"

export class OidcStore extends Effect.Service<OidcStore>()("plexichat/OidcStore", {
  effect: Effect.map(SqlClient.SqlClient, (sql) => ({
    insertFlow: OidcRows.insertFlow(sql),
    takeFlow: OidcRows.takeFlow(sql),
    findIdentityOwner: OidcRows.findIdentityOwner(sql),
    findByVerifiedEmail: OidcRows.findByVerifiedEmail(sql),
    insertIdentity: (identity: OidcRows.NewIdentity) => OidcRows.insertIdentity(sql, identity),
    linkIdentity: OidcRows.linkIdentity(sql),
    listIdentities: OidcRows.listIdentities(sql),
    unlinkIdentity: OidcRows.unlinkIdentity(sql)
  }) as const)
}) {}
