/**
 * The restore drill on a real database: the newest chain (a full backup and an incremental) restored into a
 * scratch schema of the source, every table equal to the backup and the append-only ones to the source as of the
 * backup, the scratch schema gone afterwards; a source row of the backed-up past changed since is a mismatch.
 */
import { Effect, Redacted } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { restoreDrill } from "../../src/backup/drill/RestoreDrill.ts"
import { type CreatedBackup, createBackup } from "../../src/backup/job/CreateBackup.ts"
import { latestParent } from "../../src/backup/job/IncrementalParent.ts"
import { backupSuite, onDatabase, prepareSchema, query } from "../fixtures/BackupFixture.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

const { keys, source: seeded, store } = backupSuite(3000, 200)
let source: TestDatabase
const chain: Array<CreatedBackup> = []

beforeAll(async () => {
  source = await seeded()
  chain.push(await onDatabase(source, store.layer, createBackup({ keys: keys.create, kind: "full" })))
  await query(source, "INSERT INTO plexi_messages (channel_id, seq, author_id, client_msg_id, body, created_at) VALUES ('c1', 100000, 'u1', 'later', 'after the full', 99999)")
  chain.push(await onDatabase(source, store.layer, Effect.flatMap(latestParent(keys.signing.privateKey), (parent) =>
    createBackup({ keys: keys.create, kind: "incremental", parent }))))
  // After the newest backup: not part of what the drill compares.
  await query(source, "INSERT INTO plexi_messages (channel_id, seq, author_id, client_msg_id, body, created_at) VALUES ('c1', 100001, 'u1', 'newer', 'after the chain', 100000)")
}, 120_000)

const drill = () =>
  onDatabase(source, store.layer, restoreDrill({
    manifests: chain.map((b) => ({ label: b.backupId, text: b.manifest })),
    signingKey: keys.signing.publicKey,
    recipientKey: keys.recipient.privateKey,
    prepareSchema,
    sourceUrl: Redacted.make(source.url)
  }))

const drillSchemas = async () => (await query(source, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'plexi_drill_%'")).length

describe("restore drill", () => {
  it("restores the chain into a scratch schema, matches the backup and the source as of it, reports RPO and RTO, and drops the schema", async () => {
    const report = await drill()
    expect(report.mismatches).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.restored).toMatchObject({ backupId: chain[1]!.backupId, backups: 2 })
    const messages = report.tables.find((t) => t.table === "plexi_messages")!
    expect(messages.restored.rows).toBe(3001)
    expect(messages.source).toEqual(messages.restored)
    expect(report.backupTime).toBe(chain[1]!.createdAt)
    expect(report.dataAgeMs).toBeGreaterThanOrEqual(0)
    expect(report.recoveryTimeMs).toBeGreaterThan(0)
    expect(await drillSchemas()).toBe(0)
  })

  it("reports a mismatch when the source's backed-up past no longer matches the backup", async () => {
    await query(source, "UPDATE plexi_messages SET body = 'rewritten' WHERE channel_id = 'c2' AND seq = 7")
    const report = await drill()
    expect(report.ok).toBe(false)
    expect(report.mismatches).toHaveLength(1)
    expect(report.mismatches[0]).toMatch(/^plexi_messages: restored 3001 rows .*, source as of the backup 3001/)
    expect(await drillSchemas()).toBe(0)
  })
})
