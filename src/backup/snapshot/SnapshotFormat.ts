/**
 * The plaintext of a backup (docs/BACKUPS.md#the-snapshot-format): UTF-8 JSON lines, one value per line.
 *
 * 1. a header `{"format":"plexichat.backup.snapshot","version":1,"backupId":…,"kind":…,"createdAt":…,"schemaLevel":…}`;
 * 2. per covered table, parents first: `{"table":<name>,"columns":[<name>…]}`, then one JSON array per row holding
 *    each column's value in Postgres's text form (`column::text`, what `COPY` writes) or `null`, then
 *    `{"end":<name>,"rows":<count>}`;
 * 3. per sequence owned by a covered table: `{"sequence":<name>,"lastValue":<text>,"isCalled":<bool>}`;
 * 4. a trailer `{"end":"snapshot","tables":<count>,"rows":<count>}`.
 *
 * Row lines start with `[`, every other line with `{`. A stream that stops before its trailer is incomplete.
 */
import { Schema } from "effect"
import type { BackupKind } from "../../../domain/Backup.ts"

export const snapshotFormat = "plexichat.backup.snapshot"

export const Header = Schema.Struct({
  format: Schema.Literal(snapshotFormat),
  version: Schema.Literal(1),
  backupId: Schema.String,
  kind: Schema.Literal("full", "incremental"),
  createdAt: Schema.Number,
  /** The highest migration id of the source (`plexi_migrations`); a restore refuses a backup newer than its code. */
  schemaLevel: Schema.Number
})
export type Header = typeof Header.Type

export const TableStart = Schema.Struct({ table: Schema.String, columns: Schema.Array(Schema.String) })
export const TableEnd = Schema.Struct({ end: Schema.String, rows: Schema.Number })
export const SequenceValue = Schema.Struct({ sequence: Schema.String, lastValue: Schema.String, isCalled: Schema.Boolean })
export const Trailer = Schema.Struct({ end: Schema.Literal("snapshot"), tables: Schema.Number, rows: Schema.Number })

/** Any control line (not a row): the trailer is tried before a table's end, as both have `end`. */
export const ControlLine = Schema.Union(Header, TableStart, Trailer, TableEnd, SequenceValue)
export type ControlLine = typeof ControlLine.Type

export const Row = Schema.Array(Schema.NullOr(Schema.String))

export const line = (value: object): string => `${JSON.stringify(value)}\n`

export const headerLine = (h: { readonly backupId: string; readonly kind: BackupKind; readonly createdAt: number; readonly schemaLevel: number }) =>
  line({ format: snapshotFormat, version: 1, ...h })
