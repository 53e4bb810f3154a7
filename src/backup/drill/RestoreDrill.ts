/**
 * The restore drill (docs/BACKUPS.md#drill): a backup chain restored into a scratch schema of the source database
 * (`plexi_drill_<random>`, created by the drill and dropped at its end whatever happens), then checked:
 *
 * - every restored table against the chain's own plaintext (row count and checksum, DrillChecksums.ts), so what was
 *   restored is what was backed up;
 * - the append-only tables (messages, audit log) also against the source as of the backup: its rows up to the
 *   newest backup's high-water marks, so what was backed up is what the source held.
 *
 * It reports the recovery point (the newest backup's time and the data's age now) and the recovery time achieved
 * (the restore's duration).
 */
import { randomBytes } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted } from "effect"
import { RestoreFailed } from "../../../domain/Backup.ts"
import type { RecipientPrivateKey, SigningPublicKey } from "../crypto/BackupKeys.ts"
import type { HighWater } from "../snapshot/Snapshot.ts"
import { appendOnlyTables } from "../snapshot/Incremental.ts"
import { ident } from "../snapshot/SnapshotTables.ts"
import { openManifest, type Restored, restoreBackup } from "../restore/RestoreBackup.ts"
import { chainFigures, type Expected } from "./BackupFigures.ts"
import { type TableFigures, tableFigures } from "./DrillChecksums.ts"

export interface DrillOptions {
  readonly manifests: ReadonlyArray<{ readonly label: string; readonly text: string }>
  readonly signingKey: SigningPublicKey
  readonly recipientKey: RecipientPrivateKey
  readonly prepareSchema: Effect.Effect<number, unknown, SqlClient.SqlClient>
  /** The source database (also where the scratch schema is made). */
  readonly sourceUrl: Redacted.Redacted<string>
}

export interface DrillTable {
  readonly table: string
  readonly restored: TableFigures
  readonly backup: TableFigures
  /** Of the append-only tables: the source's rows up to the backup's high-water marks. */
  readonly source: TableFigures | null
  readonly ok: boolean
}

export interface DrillReport {
  readonly restored: Restored
  readonly ok: boolean
  readonly scratchSchema: string
  /** The newest backup's time (ms): the recovery point. */
  readonly backupTime: number
  /** How old the restored data is now (ms). */
  readonly dataAgeMs: number
  /** The restore's duration (ms): the recovery time achieved. */
  readonly recoveryTimeMs: number
  readonly tables: ReadonlyArray<DrillTable>
  readonly mismatches: ReadonlyArray<string>
}

/** The source URL with its search path set to `schema` only. */
const inSchema = (url: Redacted.Redacted<string>, schema: string) => {
  const parsed = new URL(Redacted.value(url))
  parsed.searchParams.set("options", `-c search_path=${schema}`)
  return PgClient.layer({ url: Redacted.make(parsed.toString()), maxConnections: 2, applicationName: "plexichat-drill" })
}

/** The condition on the source's rows of an append-only table as of the backup (its high-water marks). */
const asOfBackup = (table: string, highWater: HighWater): [string, ReadonlyArray<unknown>] | undefined =>
  table === "plexi_messages"
    ? ["seq <= coalesce(($1::jsonb ->> channel_id)::bigint, 0)", [JSON.stringify(highWater.channelSeq)]]
    : table === "plexi_audit_log"
    ? ["seq <= $1", [highWater.auditSeq]]
    : undefined

const compare = (source: SqlClient.SqlClient, scratch: SqlClient.SqlClient, expected: Map<string, Expected>, highWater: HighWater) =>
  Effect.forEach(Array.from(expected), ([table, e]) =>
    Effect.gen(function*() {
      const restored = yield* tableFigures(scratch, table, e.columns)
      const backup = { rows: e.rows, checksum: e.sum.toString() }
      const condition = appendOnlyTables.includes(table) ? asOfBackup(table, highWater) : undefined
      const fromSource = condition === undefined ? null : yield* tableFigures(source, table, e.columns, condition[0], condition[1])
      const same = (a: TableFigures, b: TableFigures) => a.rows === b.rows && a.checksum === b.checksum
      return { table, restored, backup, source: fromSource, ok: same(restored, backup) && (fromSource === null || same(fromSource, backup)) } satisfies DrillTable
    }))

export const restoreDrill = (options: DrillOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const source = yield* SqlClient.SqlClient
    const schema = `plexi_drill_${randomBytes(6).toString("hex")}`
    yield* Effect.acquireRelease(source.unsafe(`CREATE SCHEMA ${ident(schema)}`), () =>
      Effect.ignore(source.unsafe(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`)))
    const scratchContext = yield* Layer.build(inSchema(options.sourceUrl, schema))
    const started = Date.now()
    const restored = yield* Effect.provide(restoreBackup(options), scratchContext)
    const recoveryTimeMs = Date.now() - started
    const chain = yield* Effect.forEach(options.manifests, ({ label, text }) => openManifest(label, text, options.signingKey, options.recipientKey))
    const opened = chain.map(({ dataKey, manifest }) => ({ manifest, dataKey: dataKey! }))
    const newest = opened.at(-1)!.manifest
    const highWater = (newest.details as { readonly highWater: HighWater }).highWater
    const expected = yield* chainFigures(opened)
    const tables = yield* compare(source, Context.get(scratchContext, SqlClient.SqlClient), expected, highWater)
    const mismatches = tables.filter((t) => !t.ok).map((t) =>
      `${t.table}: restored ${t.restored.rows} rows (${t.restored.checksum}), backup ${t.backup.rows} (${t.backup.checksum})`
      + (t.source === null ? "" : `, source as of the backup ${t.source.rows} (${t.source.checksum})`))
    return {
      restored,
      ok: mismatches.length === 0,
      scratchSchema: schema,
      backupTime: newest.createdAt,
      dataAgeMs: Date.now() - newest.createdAt,
      recoveryTimeMs,
      tables,
      mismatches
    } satisfies DrillReport
  })).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(new RestoreFailed({ backup: "drill", shard: null, reason: `database: ${e.message}` }))))
