/**
 * Schema migrations, run through the `@effect/sql` Migrator once per start,
 * under a Postgres advisory lock so that nodes starting together on an empty
 * database take turns. The cluster's own tables are created under the same
 * lock (their layers create them on first build, and two runners doing that
 * at once crash one of them).
 */
import { SqlMessageStorage, SqlRunnerStorage } from "@effect/cluster"
import { Migrator, SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { backupJobMigrations } from "./BackupJobMigrations.ts"
import { backupMigrations } from "./BackupMigrations.ts"
import { flagMigrations } from "./FlagMigrations.ts"
import { identityMigrations } from "./IdentityMigrations.ts"
import { releaseMigrations } from "./ReleaseMigrations.ts"
import { requireKnownSchema, stepsOf } from "./SchemaVersion.ts"

/** Every migration, by name, in order (the `plexi_migrations` table records which ran). */
export const migrations = {
  "0001_chat_core": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_users (
      id text PRIMARY KEY,
      display_name text NOT NULL,
      created_at bigint NOT NULL
    )`
    yield* sql`CREATE TABLE plexi_channels (
      id text PRIMARY KEY,
      name text NOT NULL,
      visibility text NOT NULL CHECK (visibility IN ('public', 'private')),
      created_by text NOT NULL,
      created_at bigint NOT NULL
    )`
    yield* sql`CREATE TABLE plexi_channel_members (
      channel_id text NOT NULL REFERENCES plexi_channels (id) ON DELETE CASCADE,
      user_id text NOT NULL,
      role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
      joined_at bigint NOT NULL,
      PRIMARY KEY (channel_id, user_id)
    )`
    yield* sql`CREATE INDEX plexi_channel_members_user ON plexi_channel_members (user_id)`
    yield* sql`CREATE TABLE plexi_messages (
      channel_id text NOT NULL,
      seq bigint NOT NULL,
      author_id text NOT NULL,
      client_msg_id text NOT NULL,
      body text NOT NULL,
      created_at bigint NOT NULL,
      PRIMARY KEY (channel_id, seq),
      UNIQUE (channel_id, author_id, client_msg_id)
    )`
  }),
  /**
   * Fencing token of a channel's owner: each new incarnation of a Channel
   * entity increments it when it loads, and every write it makes carries the
   * value it got, so a stale owner (stalled, partitioned) cannot write.
   */
  "0002_channel_owner_epoch": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`ALTER TABLE plexi_channels ADD COLUMN owner_epoch bigint NOT NULL DEFAULT 0`
  }),
  /**
   * The runner that holds each shard, written by a runner when it has just
   * taken the shard's advisory lock (runtime/cluster/ShardHolders.ts): a claim
   * of a channel succeeds only while its shard's row names the claiming runner.
   */
  "0003_shard_holders": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_shard_holders (
      shard_id text PRIMARY KEY,
      lock_key bigint NOT NULL,
      runner text NOT NULL
    )`
  }),
  /**
   * Accounts and sessions (src/auth/store/). Usernames and emails are unique
   * without regard to case. A session is one signed-in device; refresh
   * tokens are stored only as SHA-256 hex digests, the used ones kept (until
   * they expire) so that a reused token is recognised and revokes its session.
   */
  "0004_accounts_sessions": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE plexi_accounts (
      user_id text PRIMARY KEY,
      username text NOT NULL,
      email text,
      password_hash text NOT NULL,
      role text NOT NULL CHECK (role IN ('owner', 'admin', 'moderator', 'member', 'guest')),
      created_at bigint NOT NULL,
      password_changed_at bigint NOT NULL
    )`
    yield* sql`CREATE UNIQUE INDEX plexi_accounts_username ON plexi_accounts (lower(username))`
    yield* sql`CREATE UNIQUE INDEX plexi_accounts_email ON plexi_accounts (lower(email)) WHERE email IS NOT NULL`
    yield* sql`CREATE TABLE plexi_sessions (
      id text PRIMARY KEY,
      user_id text NOT NULL REFERENCES plexi_accounts (user_id) ON DELETE CASCADE,
      device_name text NOT NULL,
      user_agent text NOT NULL,
      ip text NOT NULL,
      created_at bigint NOT NULL,
      last_seen_at bigint NOT NULL,
      expires_at bigint NOT NULL,
      revoked_at bigint,
      revoked_reason text
    )`
    yield* sql`CREATE INDEX plexi_sessions_user ON plexi_sessions (user_id)`
    yield* sql`CREATE TABLE plexi_refresh_tokens (
      token_hash text PRIMARY KEY,
      session_id text NOT NULL REFERENCES plexi_sessions (id) ON DELETE CASCADE,
      created_at bigint NOT NULL,
      expires_at bigint NOT NULL,
      used_at bigint
    )`
    yield* sql`CREATE INDEX plexi_refresh_tokens_session ON plexi_refresh_tokens (session_id)`
  }),
  ...identityMigrations,
  ...backupMigrations,
  ...flagMigrations,
  ...backupJobMigrations,
  ...releaseMigrations
}

/** Runs the migrations not yet recorded (in the caller's transaction, if any: the restore creates its schema so). */
export const runMigrations = Migrator.make({})({
  loader: Migrator.fromRecord(migrations),
  table: "plexi_migrations"
})

/** The migrations this build knows, by id. */
export const knownSteps = stepsOf(migrations)

/**
 * The schema of a restore's target, made inside the restore's transaction: the Migrator probes for its table with a
 * query that fails (and so aborts a surrounding transaction) when the table is missing, so the table is created
 * first, as the Migrator makes it; gives the migration level reached.
 */
export const migrateInTransaction = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS plexi_migrations (
    migration_id integer primary key,
    created_at timestamp with time zone not null default now(),
    name text not null
  )`
  yield* runMigrations
  const [row] = yield* sql<{ level: string }>`SELECT max(migration_id)::text AS level FROM plexi_migrations`
  return Number(row?.level ?? 0)
})

/** An arbitrary constant: the advisory lock every node takes while migrating. */
export const MIGRATION_LOCK = 0x706c6578

/**
 * Runs our migrations and creates the cluster's tables. With `lock`, a
 * session advisory lock held on a reserved connection makes concurrent
 * starters wait their turn (the work itself runs on the pool). A database
 * migrated by a newer release (a migration this build does not know) fails
 * with `SchemaNewerThanNode` before anything runs.
 */
export const migrate = (options: { readonly runnerTables: boolean; readonly lock: boolean }) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    if (options.lock) {
      const conn = yield* sql.reserve
      yield* Effect.acquireRelease(
        conn.execute("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK], undefined),
        () => Effect.ignore(conn.execute("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK], undefined))
      )
    }
    yield* requireKnownSchema(knownSteps)
    const ran = yield* runMigrations
    yield* Layer.build(
      options.runnerTables
        ? Layer.mergeAll(SqlMessageStorage.layer, Layer.orDie(SqlRunnerStorage.layer))
        : SqlMessageStorage.layer
    )
    if (ran.length > 0) yield* Effect.logInfo("migrations applied", ran.map(([id, name]) => `${id}_${name}`))
  }).pipe(Effect.scoped, Effect.withSpan("plexichat/migrate"))
