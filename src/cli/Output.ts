/** The CLI's output: aligned tables for people, JSON for scripts (`--json`). */
import { Console, Effect } from "effect"

/** Columns padded to their widest cell, a header line first; `(none)` for no rows. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null>>) => {
  if (rows.length === 0) return "(none)"
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null ? "-" : String(cell))))]
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)))
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n")
}

/** Prints `value` as JSON with `json`, else what `human` makes of it. */
export const emit = <A>(json: boolean, value: A, human: (value: A) => string) => Console.log(json ? JSON.stringify(value) : human(value))

export const time = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

export const done = Effect.void
