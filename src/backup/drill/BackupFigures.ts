/**
 * The figures (DrillChecksums.ts) a chain's plaintext gives each table, as a restore applies it: a full backup sets
 * every table, an incremental adds to the append-only tables and replaces the others.
 */
import { Effect, Stream } from "effect"
import type { Manifest } from "../crypto/Manifest.ts"
import { linesOf } from "../restore/RestoreBackup.ts"
import { appendOnlyTables } from "../snapshot/Incremental.ts"
import { rowTerm } from "./DrillChecksums.ts"

export interface Expected {
  readonly columns: ReadonlyArray<string>
  rows: number
  sum: bigint
}

export const chainFigures = (chain: ReadonlyArray<{ readonly manifest: Manifest; readonly dataKey: Uint8Array }>) =>
  Effect.gen(function*() {
    const tables = new Map<string, Expected>()
    for (const [i, { dataKey, manifest }] of chain.entries()) {
      let current: Expected | undefined
      yield* Stream.runForEach(linesOf(manifest, dataKey), (line) =>
        Effect.sync(() => {
          if (line.startsWith("[")) {
            if (current !== undefined) {
              current.rows += 1
              current.sum += rowTerm(line)
            }
            return
          }
          const control = JSON.parse(line) as { table?: string; columns?: Array<string> }
          if (control.table === undefined || control.columns === undefined) return
          const before = tables.get(control.table)
          current = i > 0 && before !== undefined && appendOnlyTables.includes(control.table) ? before : { columns: control.columns, rows: 0, sum: 0n }
          tables.set(control.table, current)
        }))
    }
    return tables
  })
