/**
 * `backup`: a full backup of a generated workspace (BENCH_BACKUP_MB of plaintext, default 1024: BackupWorkspace.ts)
 * and its restore into an empty database, through the code `plexichat backup create` / `restore` runs (`createBackup`,
 * `restoreBackup` with the nodes' migrations, the CLI's Postgres layer, `LocalShardDirectory` under the temporary
 * directory), against, in the same run: raw AES-256-GCM over the same bytes, and `pg_dump` / `psql` of the same
 * database. Then 1 % of the messages and audit rows are appended and an incremental backup made: its size against the
 * full, and the restore drill (`plexichat backup drill`'s `restoreDrill`) runs over the full backup: its recovery time
 * against the same round's `psql` load. CPU is this process's (`process.cpuUsage`) and the databases' backends', per
 * MiB of plaintext.
 * BENCH_BACKUP_ROUNDS rounds (default 1: a round at 1 GiB takes minutes).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, Redacted } from "effect"
import { migrateInTransaction } from "../../../runtime/sql/Migrations.ts"
import { generateRecipient, generateSigning } from "../../../src/backup/crypto/BackupKeys.ts"
import type { CreateKeys } from "../../../src/backup/job/BackupKeyFiles.ts"
import { type CreatedBackup, createBackup } from "../../../src/backup/job/CreateBackup.ts"
import { latestParent } from "../../../src/backup/job/IncrementalParent.ts"
import { restoreDrill } from "../../../src/backup/drill/RestoreDrill.ts"
import { restoreBackup } from "../../../src/backup/restore/RestoreBackup.ts"
import { layerLocalShardDirectory } from "../../../src/backup/store/LocalShardDirectory.ts"
import { layerUrl } from "../../../src/cli/CliDatabase.ts"
import { pgDump, psqlLoad, rawAesGcm } from "../lib/BackupBaselines.ts"
import { appendOnePercent, generateWorkspace, migrateDatabase } from "../lib/BackupWorkspace.ts"
import { withDatabase } from "../lib/Lifecycle.ts"
import { pgBackendCpu } from "../lib/ProcessStats.ts"
import { report } from "../lib/Results.ts"
import { fmt3, median } from "../lib/Rounds.ts"

const MiB = 1024 * 1024
const targetMiB = Math.max(1, Number(process.env.BENCH_BACKUP_MB ?? 1024))
/** This scenario's rounds: BENCH_BACKUP_ROUNDS, not BENCH_ROUNDS. */
export const backupRounds = Math.max(1, Number(process.env.BENCH_BACKUP_ROUNDS ?? 1))

/** Wall seconds, this process's CPU ms and the database backends' CPU ms of `run`. */
const measured = async <A>(url: string, run: () => Promise<A>) => {
  const pg = await pgBackendCpu(url)
  const cpu = process.cpuUsage()
  const started = performance.now()
  const value = await run()
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  return { value, seconds, cpuMs: (used.user + used.system) / 1000, pgMs: await pg.stop() }
}

/** What the CLI's backup commands run on: `url`'s database and the shard directory. */
const cliStore = (url: string, shardDir: string) => Layer.merge(layerUrl(Redacted.make(url)), layerLocalShardDirectory(shardDir))

const keys = () => {
  const recipient = generateRecipient()
  const signing = generateSigning()
  return { recipient, signing, create: { recipients: [recipient.publicKey], signing: signing.privateKey } satisfies CreateKeys }
}

interface Round {
  readonly create: { readonly seconds: number; readonly cpuMs: number; readonly pgMs: number; readonly plaintextBytes: number; readonly storedBytes: number; readonly rows: number }
  readonly restore: { readonly seconds: number; readonly cpuMs: number; readonly pgMs: number; readonly rows: number }
  readonly aes: { readonly seconds: number; readonly cpuMs: number }
  readonly dump: { readonly seconds: number; readonly cpuMs: number; readonly pgMs: number; readonly bytes: number }
  readonly load: { readonly seconds: number; readonly cpuMs: number; readonly pgMs: number }
  readonly backup: CreatedBackup
}

const plexiRound = async (url: string, shardDir: string, k: ReturnType<typeof keys>) => {
  const layer = cliStore(url, shardDir)
  const create = await measured(url, () => Effect.runPromise(createBackup({ keys: k.create, kind: "full" }).pipe(Effect.provide(layer))))
  const restore = await withDatabase((target) =>
    measured(target.url, () =>
      Effect.runPromise(restoreBackup({
        manifests: [{ label: "bench", text: create.value.manifest }],
        signingKey: k.signing.publicKey,
        recipientKey: k.recipient.privateKey,
        prepareSchema: migrateInTransaction
      }).pipe(Effect.provide(cliStore(target.url, shardDir))))))
  if (restore.value.rows !== create.value.rows) throw new Error(`restored ${restore.value.rows} rows of ${create.value.rows}`)
  return {
    backup: create.value,
    create: { ...create, plaintextBytes: create.value.plaintextBytes, storedBytes: create.value.storedBytes, rows: create.value.rows },
    restore: { ...restore, rows: restore.value.rows }
  }
}

const baselineRound = async (url: string, dumpFile: string) => {
  const dump = await measured(url, () => pgDump(url, dumpFile))
  const load = await withDatabase((target) => measured(target.url, () => psqlLoad(target.url, dumpFile)))
  return {
    dump: { seconds: dump.seconds, cpuMs: dump.value.cpuMs, pgMs: dump.pgMs, bytes: dump.value.bytes },
    load: { seconds: load.seconds, cpuMs: load.value.cpuMs, pgMs: load.pgMs }
  }
}

const mibs = (bytes: number, seconds: number) => bytes / MiB / seconds

const reportRounds = (all: ReadonlyArray<Round>, databaseBytes: number) => {
  const plain = all[0]!.create.plaintextBytes
  const size = `${(plain / MiB).toFixed(0)} MiB of plaintext, ${(databaseBytes / MiB).toFixed(0)} MiB database, ${all[0]!.create.rows.toLocaleString("en-US")} rows`
  const createRate = all.map((r) => mibs(r.create.plaintextBytes, r.create.seconds))
  const dumpRate = all.map((r) => mibs(r.create.plaintextBytes, r.dump.seconds))
  const aesRate = all.map((r) => mibs(r.create.plaintextBytes, r.aes.seconds))
  const perMiB = (ms: ReadonlyArray<number>) => fmt3(ms.map((m) => m / (plain / MiB)), 1)
  report({
    scenario: `backup create (snapshot → encrypt → store → verify → commit), ${size}; MiB/s of plaintext (of database size: ${fmt3(all.map((r) => mibs(databaseBytes, r.create.seconds)), 1)})`,
    plexi: fmt3(createRate, 1, "MiB/s"),
    baseline: `pg_dump -Fp ${fmt3(dumpRate, 1, "MiB/s")} (dump ${(all[0]!.dump.bytes / MiB).toFixed(0)} MiB; tool CPU ${perMiB(all.map((r) => r.dump.cpuMs))} ms/MiB); raw AES-256-GCM ${fmt3(aesRate, 0, "MiB/s")} (${perMiB(all.map((r) => r.aes.cpuMs))} ms/MiB)`,
    ratio: `${(median(createRate) / median(dumpRate)).toFixed(2)}× pg_dump, ${(median(createRate) / median(aesRate)).toFixed(3)}× AES`,
    cpu: `process ${perMiB(all.map((r) => r.create.cpuMs))} ms/MiB, Postgres ${perMiB(all.map((r) => r.create.pgMs))} ms/MiB (pg_dump's backend ${perMiB(all.map((r) => r.dump.pgMs))})`,
    target: "≥ 0.5× pg_dump",
    met: median(createRate) >= 0.5 * median(dumpRate)
  })
  const restoreRate = all.map((r) => mibs(plain, r.restore.seconds))
  const loadRate = all.map((r) => mibs(plain, r.load.seconds))
  report({
    scenario: `restore into an empty database (one transaction, migrations included), ${size}; MiB/s of plaintext`,
    plexi: fmt3(restoreRate, 1, "MiB/s"),
    baseline: `psql -1 -f of the dump ${fmt3(loadRate, 1, "MiB/s")} (tool CPU ${perMiB(all.map((r) => r.load.cpuMs))} ms/MiB)`,
    ratio: `${(median(restoreRate) / median(loadRate)).toFixed(2)}× psql load`,
    cpu: `process ${perMiB(all.map((r) => r.restore.cpuMs))} ms/MiB, Postgres ${perMiB(all.map((r) => r.restore.pgMs))} ms/MiB (psql load's backend ${perMiB(all.map((r) => r.load.pgMs))})`,
    target: "≥ 0.25× psql load",
    met: median(restoreRate) >= 0.25 * median(loadRate)
  })
}

export const backups = () =>
  withDatabase(async (source) => {
    await migrateDatabase(source.url)
    const workspace = await generateWorkspace(source.url, targetMiB)
    console.error(`  workspace: ${workspace.messages} messages in ${workspace.channels} channels, ${workspace.users} users, ${workspace.members} members, ` +
      `${workspace.auditRows} audit rows, ${(workspace.databaseBytes / MiB).toFixed(0)} MiB database, generated in ${workspace.seconds.toFixed(1)} s`)
    const scratch = mkdtempSync(join(tmpdir(), "plexi-bench-backup-"))
    try {
      const k = keys()
      const all: Array<Round> = []
      for (let round = 0; round < backupRounds; round++) {
        const shardDir = join(scratch, `shards-${round}`)
        const dumpFile = join(scratch, `dump-${round}.sql`)
        const plexiFirst = round % 2 === 0
        const base = plexiFirst ? undefined : await baselineRound(source.url, dumpFile)
        const plexi = await plexiRound(source.url, shardDir, k)
        const baseline = base ?? await baselineRound(source.url, dumpFile)
        rmSync(dumpFile, { force: true })
        if (round < backupRounds - 1) rmSync(shardDir, { recursive: true, force: true })
        all.push({ ...plexi, ...baseline, aes: rawAesGcm(plexi.create.plaintextBytes) })
        console.error(`  round ${round + 1}/${backupRounds} done: create ${all.at(-1)!.create.seconds.toFixed(1)} s, restore ${all.at(-1)!.restore.seconds.toFixed(1)} s, ` +
          `pg_dump ${all.at(-1)!.dump.seconds.toFixed(1)} s, psql load ${all.at(-1)!.load.seconds.toFixed(1)} s`)
      }
      reportRounds(all, workspace.databaseBytes)
      await drill(source.url, join(scratch, `shards-${backupRounds - 1}`), k, all.at(-1)!)
      await incremental(source.url, join(scratch, `shards-${backupRounds - 1}`), k, workspace, all.at(-1)!.backup)
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  })

const incremental = async (url: string, shardDir: string, k: ReturnType<typeof keys>, workspace: Awaited<ReturnType<typeof generateWorkspace>>, full: CreatedBackup) => {
  const { newAudit, newMessages } = await appendOnePercent(url, workspace)
  const layer = cliStore(url, shardDir)
  const made = await measured(url, () =>
    Effect.runPromise(Effect.flatMap(latestParent(k.create.signing), (parent) => createBackup({ keys: k.create, kind: "incremental", parent })).pipe(Effect.provide(layer))))
  const share = made.value.plaintextBytes / full.plaintextBytes
  report({
    scenario: `incremental backup after ${newMessages.toLocaleString("en-US")} messages (1 %) and ${newAudit.toLocaleString("en-US")} audit rows (1 %) were appended; size of plaintext`,
    plexi: `${(made.value.plaintextBytes / MiB).toFixed(1)} MiB, ${made.value.rows.toLocaleString("en-US")} rows, ${made.seconds.toFixed(1)} s`,
    baseline: `the full backup: ${(full.plaintextBytes / MiB).toFixed(1)} MiB, ${full.rows.toLocaleString("en-US")} rows`,
    ratio: `${(share * 100).toFixed(2)} % of the full`,
    cpu: `process ${(made.cpuMs / (made.value.plaintextBytes / MiB)).toFixed(1)} ms/MiB, Postgres ${made.pgMs.toFixed(0)} ms in all`,
    target: "≤ 5 % of the full (the other tables are copied whole)",
    met: share <= 0.05
  })
}

/** The restore drill over the last round's full backup: recovery time against that round's `psql` load. */
const drill = async (url: string, shardDir: string, k: ReturnType<typeof keys>, round: Round) => {
  const layer = cliStore(url, shardDir)
  const run = await measured(url, () =>
    Effect.runPromise(restoreDrill({
      manifests: [{ label: "bench", text: round.backup.manifest }],
      signingKey: k.signing.publicKey,
      recipientKey: k.recipient.privateKey,
      prepareSchema: migrateInTransaction,
      sourceUrl: Redacted.make(url)
    }).pipe(Effect.provide(layer))))
  const recovery = run.value.recoveryTimeMs / 1000
  report({
    scenario: `restore drill of the full backup (${run.value.tables.length} tables, ${run.value.restored.rows.toLocaleString("en-US")} rows): recovery time`,
    plexi: `${recovery.toFixed(1)} s to restore, ${run.seconds.toFixed(1)} s with the checks (${run.value.ok ? "every table matched" : `MISMATCH: ${run.value.mismatches.join("; ")}`})`,
    baseline: `psql -1 -f of the dump ${round.load.seconds.toFixed(1)} s`,
    ratio: `${(recovery / round.load.seconds).toFixed(2)}× psql load's time`,
    cpu: `process ${run.cpuMs.toFixed(0)} ms, Postgres ${run.pgMs.toFixed(0)} ms`,
    target: "every table matches",
    met: run.value.ok
  })
}
