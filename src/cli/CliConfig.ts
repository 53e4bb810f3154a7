/**
 * Settings of the admin CLI (`plexichat`): the Postgres it reads, from
 * `DATABASE_URL` (the nodes' own variable). The embedded single node's store
 * is not reachable from another process; query its log over REST.
 */
import { Config } from "effect"

export const databaseUrl = Config.redacted("DATABASE_URL").pipe(
  Config.withDescription("Postgres URL of the installation (the same value the nodes use).")
)
