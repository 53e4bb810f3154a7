/**
 * Migration 0016: the release each node runs (runtime/NodeRelease.ts), one
 * row per node, rewritten at each start: its package version and protocol
 * version, for `plexichat status`. Additive only: nodes of older releases
 * neither read nor write it. Part of `migrations` (Migrations.ts).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const releaseMigrations = {
  "0016_node_releases": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_node_releases (
      node text PRIMARY KEY,
      node_id text NOT NULL,
      package_version text NOT NULL,
      protocol_version text NOT NULL,
      started_at bigint NOT NULL
    )`
  })
}
