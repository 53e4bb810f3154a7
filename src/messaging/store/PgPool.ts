/**
 * The `pg` pool under the node's `@effect/sql` client, for the one
 * statement that runs outside fibers (the group commit's INSERT,
 * `MessageRows.insertMessagesNow`). The node's database layer
 * (runtime/sql/Database.ts) makes the pool and builds the SQL client on it,
 * so both share its connections and their limit.
 */
import { Context } from "effect"
import type Pg from "pg"

export class PgPool extends Context.Tag("plexichat/PgPool")<PgPool, Pg.Pool>() {}
