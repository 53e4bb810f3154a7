/**
 * The backup scenario's workspace: a fresh database migrated by the nodes' own migrations, filled by
 * `generate_series` inserts into the real tables (no node, no REST: it has to reach a gigabyte in a minute or two).
 * Sized by the plaintext it should make, about `targetMiB`: messages over many channels (40–200 byte bodies mostly,
 * a quarter of 300–500, one in twenty of 1.5–2 KB; one in 97 with a newline, quotes and non-ASCII), and around them
 * users with accounts and sessions, channel members and audit rows, in proportions of a busy installation.
 */
import { ShardingConfig } from "@effect/cluster"
import { Effect, Redacted } from "effect"
import pg from "pg"
import { layerPostgres } from "../../../runtime/sql/Database.ts"
import { migrate } from "../../../runtime/sql/Migrations.ts"

/** Plaintext bytes a message row makes on average in the snapshot (body ~260 B, the rest ~110 B), measured. */
const bytesPerMessage = 370

export interface Workspace {
  readonly messages: number
  readonly channels: number
  readonly users: number
  readonly members: number
  readonly auditRows: number
  /** `pg_database_size` after the fill and a VACUUM ANALYZE (tables, indexes, the cluster's tables). */
  readonly databaseBytes: number
  readonly seconds: number
}

export const migrateDatabase = (url: string) =>
  Effect.runPromise(migrate({ runnerTables: true, lock: false }).pipe(
    Effect.provide(ShardingConfig.layer()),
    Effect.provide(layerPostgres(Redacted.make(url), { maxConnections: 2 }))
  ))

const bodyLength = `CASE WHEN i % 20 = 0 THEN 1500 + i % 500 WHEN i % 4 = 0 THEN 300 + i % 200 ELSE 40 + (i * 7) % 160 END`

const messagesSql = (from: string) => `INSERT INTO plexi_messages (channel_id, seq, author_id, client_msg_id, body, created_at)
  SELECT 'ch_' || (i % $2::bigint), ${from}, 'u_' || ((i * 7919) % $3::bigint), 'cm_' || i,
         left(repeat(md5(i::text) || ' lorem ipsum ', (1 + (${bodyLength}) / 45)::int), (${bodyLength})::int)
           || CASE WHEN i % 97 = 0 THEN E'\\n"quoted" \\\\ é 🦊' ELSE '' END,
         1700000000000 + i * 50
  FROM generate_series($1::bigint, $4::bigint - 1) AS i`

const auditSql = `INSERT INTO plexi_audit_log (seq, at, actor, action, target, ip, node, details, prev_hash, hash)
  SELECT i, 1700000000000 + i * 500, 'u_' || (i % $2::bigint), (ARRAY['auth.login','channel.create','member.join','auth.refresh'])[1 + i % 4],
         'ch_' || (i % 97), '10.' || (i % 250) || '.' || (i % 199) || '.7', 'node-' || (i % 3),
         '{"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","device":"bench ' || (i % 13) || '"}',
         md5((i - 1)::text) || md5((i - 1)::text), md5(i::text) || md5(i::text)
  FROM generate_series($1::bigint, $3::bigint) AS i`

/** Fills a migrated database with about `targetMiB` of snapshot plaintext. */
export const generateWorkspace = async (url: string, targetMiB: number): Promise<Workspace> => {
  const started = performance.now()
  const messages = Math.max(1000, Math.round((targetMiB * 1024 * 1024) / bytesPerMessage))
  const channels = Math.max(20, Math.round(messages / 1000))
  const users = Math.max(50, Math.round(messages / 100))
  const auditRows = Math.round(messages / 10)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`INSERT INTO plexi_users (id, display_name, created_at) SELECT 'u_' || i, 'User ' || i || CASE WHEN i % 31 = 0 THEN ' Zoë' ELSE '' END, 1600000000000 + i FROM generate_series(0, $1 - 1) AS i`, [users])
    await client.query(`INSERT INTO plexi_accounts (user_id, username, email, password_hash, role, created_at, password_changed_at, email_verified)
      SELECT 'u_' || i, 'user' || i, 'user' || i || '@example.org', '$argon2id$v=19$m=19456,t=2,p=1$' || md5(i::text) || '$' || md5((i + 1)::text),
             CASE WHEN i = 0 THEN 'owner' ELSE 'member' END, 1600000000000 + i, 1600000000000 + i, i % 2 = 0
      FROM generate_series(0, $1 - 1) AS i`, [users])
    await client.query(`INSERT INTO plexi_sessions (id, user_id, device_name, user_agent, ip, created_at, last_seen_at, expires_at)
      SELECT 'se_' || i, 'u_' || i, 'laptop', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0', '10.0.' || (i % 250) || '.1', 1700000000000, 1700000000000 + i, 1800000000000
      FROM generate_series(0, $1 - 1) AS i`, [users])
    await client.query(`INSERT INTO plexi_channels (id, name, visibility, created_by, created_at, owner_epoch)
      SELECT 'ch_' || i, 'channel-' || i, CASE WHEN i % 5 = 0 THEN 'private' ELSE 'public' END, 'u_' || (i % $2), 1650000000000 + i, 1
      FROM generate_series(0, $1 - 1) AS i`, [channels, users])
    // 10–49 members per channel, distinct users (a stride through the users).
    const members = await client.query(`INSERT INTO plexi_channel_members (channel_id, user_id, role, joined_at)
      SELECT 'ch_' || c, 'u_' || ((c * 37 + k * 101) % $2), CASE WHEN k = 0 THEN 'owner' ELSE 'member' END, 1650000000000 + c + k
      FROM generate_series(0, $1 - 1) AS c, generate_series(0, 9 + c % 40) AS k ON CONFLICT DO NOTHING`, [channels, users])
    // Messages in slices, so that no one statement runs for minutes.
    const slice = 250_000
    for (let from = 0; from < messages; from += slice) {
      await client.query(messagesSql(`i / $2::bigint + 1`), [from, channels, users, Math.min(messages, from + slice)])
    }
    await client.query(auditSql, [1, users, auditRows])
    await client.query(`UPDATE plexi_audit_head SET seq = $1::bigint, hash = md5($1::bigint::text) || md5($1::bigint::text)`, [auditRows])
    await client.query("VACUUM ANALYZE")
    const [size] = (await client.query<{ bytes: string }>("SELECT pg_database_size(current_database())::text AS bytes")).rows
    return { messages, channels, users, members: members.rowCount ?? 0, auditRows, databaseBytes: Number(size!.bytes), seconds: (performance.now() - started) / 1000 }
  } finally {
    await client.end()
  }
}

/**
 * The change an incremental backup measures: messages and audit rows are append-only, so 1 % of the messages is
 * appended (spread over every channel, each channel's seq continuing) and 1 % of the audit rows after the newest.
 */
export const appendOnePercent = async (url: string, w: Workspace) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const newMessages = Math.max(1, Math.round(w.messages / 100))
    const perChannel = Math.ceil(w.messages / w.channels)
    // i continues after the existing messages; seq continues each channel's (every channel has ≤ perChannel rows).
    await client.query(messagesSql(`${perChannel} + (i - $1::bigint) / $2::bigint + 1`), [w.messages, w.channels, w.users, w.messages + newMessages])
    const newAudit = Math.max(1, Math.round(w.auditRows / 100))
    await client.query(auditSql, [w.auditRows + 1, w.users, w.auditRows + newAudit])
    return { newMessages, newAudit }
  } finally {
    await client.end()
  }
}
