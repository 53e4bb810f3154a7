/**
 * Incremental backups on real Postgres: an incremental made after a full backup carries only the messages and audit
 * rows after the full backup's high-water marks (and the other tables whole), and the chain full → incremental
 * restores into an empty database equal to the source, changes in place and deletions included. An incremental
 * without its full backup is refused and leaves nothing.
 */
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { latestParent } from "../../src/backup/job/IncrementalParent.ts"
import { type CreatedBackup, createBackup } from "../../src/backup/job/CreateBackup.ts"
import { restoreBackup } from "../../src/backup/restore/RestoreBackup.ts"
import { backupSuite, contents, failureOn, onDatabase, postgresDatabase, prepareSchema, query, tablesOf } from "../fixtures/BackupFixture.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

// A small source: the incremental is what matters.
const { databases, keys, source: seeded, store } = backupSuite(400, 100)
let source: TestDatabase
let full: CreatedBackup
let incremental: CreatedBackup
/** An event time after every backup of the test: rows stamped so are left out by a restore to an earlier T. */
const future = Date.now() + 10 * 24 * 3600_000

beforeAll(async () => {
  source = await seeded()
  full = await onDatabase(source, store.layer, createBackup({ keys: keys.create, kind: "full" }))
  // After the full backup: new messages (in a channel that had none too), audit rows, a rename, a member who left.
  await query(source, `INSERT INTO plexi_messages (channel_id, seq, author_id, client_msg_id, body, created_at)
    SELECT 'c1', 200 + i, 'u1', 'late' || i, 'late ' || i, 9000 + i FROM generate_series(1, 30) AS i
    UNION ALL SELECT 'c3', i, 'u2', 'first' || i, 'first in c3', 9100 + i FROM generate_series(1, 5) AS i
    UNION ALL SELECT 'c2', 200 + i, 'u1', 'future' || i, 'stamped later than any backup', $1::bigint FROM generate_series(1, 3) AS i`, [future])
  await query(source, `INSERT INTO plexi_audit_log (seq, at, actor, action, target, ip, node, details, prev_hash, hash)
    SELECT i, CASE WHEN i = 9 THEN $1::bigint ELSE 9000 + i END, 'u2', 'auth.logout', NULL, NULL, 'n2', '{}', repeat('a', 64), md5(i::text) || md5(i::text)
    FROM generate_series(6, 9) AS i`, [future])
  await query(source, `UPDATE plexi_users SET display_name = 'Ann, renamed' WHERE id = 'u1'`)
  await query(source, `DELETE FROM plexi_channel_members WHERE channel_id = 'c1' AND user_id = 'u2'`)
  incremental = await onDatabase(source, store.layer, Effect.flatMap(latestParent(keys.signing.privateKey), (parent) =>
    createBackup({ keys: keys.create, kind: "incremental", parent })))
}, 120_000)

const restore = (manifests: ReadonlyArray<CreatedBackup>, until?: number) =>
  restoreBackup({
    ...(until === undefined ? {} : { until }),
    manifests: manifests.map((b) => ({ label: b.backupId, text: b.manifest })),
    signingKey: keys.signing.publicKey,
    recipientKey: keys.recipient.privateKey,
    prepareSchema
  })

describe("incremental backups", () => {
  it("carry only the rows after the parent's high-water marks of messages and audit, and name their parent", async () => {
    expect(incremental).toMatchObject({ kind: "incremental", parent: full.backupId, highWater: { auditSeq: 9, channelSeq: { c1: 230, c2: 203, c3: 5 } } })
    const messages = await query(source, "SELECT count(*)::int AS n FROM plexi_messages")
    // 38 messages and 4 audit rows, plus every other covered table whole (3 users, 2 accounts, 3 channels, 2 members, 2 revocations, the audit head).
    expect(incremental.rows).toBe(38 + 4 + 3 + 2 + 3 + 2 + 2 + 1)
    expect(full.rows).toBeGreaterThan(messages[0]!.n - 38)
  })

  it("restore the chain full then incremental into an empty database equal to the source", async () => {
    const target = await postgresDatabase(databases)
    const restored = await onDatabase(target, store.layer, restore([full, incremental]))
    expect(restored).toMatchObject({ backupId: incremental.backupId, backups: 2 })
    expect(await contents(target)).toEqual(await contents(source))
  })

  it("refuse an incremental without its full backup, leaving nothing", async () => {
    const target = await postgresDatabase(databases)
    const error = await failureOn(target, store.layer, restore([incremental]))
    expect({ tag: error._tag, backup: error.backup }).toEqual({ tag: "RestoreFailed", backup: incremental.backupId })
    expect(error.reason).toContain("the chain needs a full backup here")
    expect(await tablesOf(target)).toEqual([])
  })

  it("restore to a point in time T: the chain up to T, rows stamped after T left out, the audit head on the newest row kept", async () => {
    const target = await postgresDatabase(databases)
    const until = incremental.createdAt
    const restored = await onDatabase(target, store.layer, restore([full, incremental], until))
    expect(restored).toMatchObject({ backups: 2, recoveryPoint: until })
    const count = async (db: TestDatabase, sql: string) => (await query(db, sql))[0]!.n
    const later = "SELECT count(*)::int AS n FROM plexi_messages WHERE created_at > " + until
    expect([await count(source, later), await count(target, later)]).toEqual([3, 0])
    const all = "SELECT count(*)::int AS n FROM plexi_messages"
    expect(await count(target, all)).toBe((await count(source, all)) - 3)
    const [head] = await query(target, "SELECT seq::int AS seq, hash FROM plexi_audit_head")
    const [newest] = await query(target, "SELECT seq::int AS seq, hash FROM plexi_audit_log ORDER BY seq DESC LIMIT 1")
    expect(head).toEqual(newest)
    expect(newest!.seq).toBe(8)
  })

  it("refuse a point in time before the chain's first backup with a clear error, leaving nothing", async () => {
    const target = await postgresDatabase(databases)
    const error = await failureOn(target, store.layer, restore([full, incremental], full.createdAt - 60_000))
    expect({ tag: error._tag, backup: error.backup }).toEqual({ tag: "RestoreFailed", backup: full.backupId })
    expect(error.reason).toContain("is before the chain's first backup")
    expect(await tablesOf(target)).toEqual([])
  })
})
