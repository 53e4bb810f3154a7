/**
 * One backup job's attempts in this process, on real Postgres and a shard directory, interrupted as a lost node
 * would be (the fiber is interrupted mid-shard; the job's rows stay):
 *
 * - the next attempt skips the chunks already stored (no `store` call for them, same hashes) and commits;
 * - when a chunk already stored regenerates differently (a row in it changed before the resume), the attempt fails
 *   with BackupDataChanged naming that chunk, and nothing is committed;
 * - an attempt whose job was claimed again since (a stalled node coming back) writes nothing: BackupJobTakenOver.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Duration, Effect, Fiber, Layer, Option } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { layer as jobConfigLayer } from "../../src/backup/job/BackupJobConfig.ts"
import { runAttempt } from "../../src/backup/job/BackupJobRun.ts"
import { insertJob, prepareJob } from "../../src/backup/job/JobStart.ts"
import * as JobState from "../../src/backup/job/JobState.ts"
import { SnapshotSource } from "../../src/backup/job/SnapshotSource.ts"
import { BackupShards } from "../../src/backup/store/BackupShards.ts"
import { makeLocalShardDirectory } from "../../src/backup/store/LocalShardDirectory.ts"
import { keysForTest, migrated, postgresDatabase, query, sqlLayer } from "../fixtures/BackupFixture.ts"
import type { TestDatabase } from "../fixtures/TestDatabase.ts"

const databases: Array<TestDatabase> = []
const dir = mkdtempSync(join(tmpdir(), "plexi-job-resume-"))
const keys = keysForTest().create
const hooks = { underReplicated: () => Effect.void }
let db: TestDatabase
let stores: Array<string> = []
let layer: Layer.Layer<any, any>

const counting = () => {
  const local = makeLocalShardDirectory(dir)
  return Layer.succeed(BackupShards, { ...local, store: (hash, bytes) => Effect.zipRight(Effect.sync(() => stores.push(hash)), local.store(hash, bytes)) })
}

const run = <A, E>(effect: Effect.Effect<A, E, any>) => Effect.runPromise(Effect.provide(effect, layer) as Effect.Effect<A, E>)
const job = () => run(Effect.map(JobState.current, Option.getOrThrow))
const chunks = async (id: string) => Number((await query(db, `SELECT count(*)::int AS n FROM plexi_backup_job_chunks WHERE backup_id = $1`, [id]))[0].n)
const hashes = async (id: string) => (await query(db, `SELECT hash FROM plexi_backup_shards WHERE backup_id = $1 ORDER BY idx`, [id])).map((r) => String(r.hash))

/** Starts an attempt with a pause per shard and interrupts it once `stored` chunks are recorded. */
const interruptedAfter = async (stored: number) => {
  const row = await job()
  const fiber = Effect.runFork(Effect.provide(runAttempt(row, keys, hooks), Layer.merge(layer, jobConfigLayer({ shardDelay: Duration.millis(300) }))) as Effect.Effect<number>)
  await vi.waitFor(async () => expect(await chunks(row.backupId)).toBeGreaterThanOrEqual(stored), { timeout: 20_000, interval: 20 })
  await Effect.runPromise(Fiber.interrupt(fiber))
  return row.backupId
}

beforeAll(async () => {
  db = await postgresDatabase(databases)
  await migrated(db)
  // ~3.5 MiB of users (a mutable table) and no messages: four chunks, the users in the first ones.
  await query(db, `INSERT INTO plexi_users SELECT 'u' || lpad(i::text, 5, '0'), repeat(md5(i::text), 40), i FROM generate_series(1, 3000) AS i`)
  layer = Layer.mergeAll(sqlLayer(db), counting(), jobConfigLayer(), SnapshotSource.sameDatabase.pipe(Layer.provide(sqlLayer(db))))
}, 60_000)

afterAll(async () => {
  for (const d of databases) await d.drop()
  rmSync(dir, { recursive: true, force: true })
})

describe("a backup job's resumed attempt", () => {
  it("skips the chunks stored before the interruption and commits", async () => {
    await run(Effect.flatMap(prepareJob(keys, { kind: "full", parent: null }), insertJob))
    const id = await interruptedAfter(2)
    const before = await hashes(id)
    stores = []
    await run(Effect.flatMap(JobState.current, (row) => runAttempt(Option.getOrThrow(row), keys, hooks)))
    const after = await hashes(id)
    expect(after.slice(0, before.length)).toEqual(before)
    expect(stores).toEqual(after.slice(before.length))
    expect(after.length).toBeGreaterThanOrEqual(4)
    expect(await query(db, `SELECT state FROM plexi_backups WHERE id = $1`, [id])).toEqual([{ state: "committed" }])
  }, 60_000)

  it("fails with BackupDataChanged naming the stored chunk that regenerated differently", async () => {
    await run(Effect.flatMap(prepareJob(keys, { kind: "full", parent: null }), insertJob))
    const id = await interruptedAfter(1)
    await query(db, `UPDATE plexi_users SET display_name = 'renamed' WHERE id = 'u00001'`)
    const outcome = await run(Effect.flip(Effect.flatMap(JobState.current, (row) => runAttempt(Option.getOrThrow(row), keys, hooks))))
    expect(outcome).toMatchObject({ _tag: "BackupDataChanged", backupId: id, index: 0 })
    expect(await query(db, `SELECT state FROM plexi_backups WHERE id = $1`, [id])).toEqual([{ state: "running" }])
  }, 60_000)

  it("refuses every write of an attempt whose job another node claimed since, and lets the newer attempt commit", async () => {
    await query(db, `DELETE FROM plexi_backup_jobs`)
    const id = await run(Effect.flatMap(prepareJob(keys, { kind: "full", parent: null }), insertJob))
    const stale = await run(JobState.claim(id, "node-1"))
    const fresh = await run(JobState.claim(id, "node-2"))
    const row = await job()
    const outcome = await run(Effect.flip(runAttempt({ ...row, attempts: stale }, keys, hooks)))
    expect(outcome).toMatchObject({ _tag: "BackupJobTakenOver", backupId: id, epoch: stale })
    expect(await hashes(id)).toEqual([])
    await run(runAttempt({ ...row, attempts: fresh }, keys, hooks))
    expect(await query(db, `SELECT state FROM plexi_backups WHERE id = $1`, [id])).toEqual([{ state: "committed" }])
  }, 60_000)
})

