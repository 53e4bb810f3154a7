/**
 * The audit hash chain: a chain as `extend` builds it verifies row by row,
 * and editing any field of a row, deleting a row or swapping two adjacent
 * rows is caught at the first affected row.
 */
import { fc, test } from "@fast-check/vitest"
import { describe, expect } from "vitest"
import { type ChainRow, extend, GENESIS, problemOf } from "../../src/audit/AuditChain.ts"

/** The first (seq, problem) of `rows` read in order, as `plexichat audit verify` reads them. */
const firstProblem = (rows: ReadonlyArray<ChainRow>) => {
  let previous = { seq: 0, hash: GENESIS }
  for (const row of rows) {
    const problem = problemOf(previous, row)
    if (problem !== undefined) return { seq: Math.min(row.seq, previous.seq + 1), problem }
    previous = row
  }
  return undefined
}

const event = fc.record({
  at: fc.nat(),
  actor: fc.option(fc.string({ maxLength: 70 })),
  action: fc.string({ minLength: 1, maxLength: 70 }),
  target: fc.option(fc.string({ maxLength: 10 })),
  ip: fc.option(fc.ipV4()),
  node: fc.constant("n1"),
  details: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }))
})

const chain = fc.array(event, { minLength: 2, maxLength: 20 }).map((events) => extend({ seq: 0, hash: GENESIS }, events))

describe("audit chain", () => {
  test.prop([chain])("verifies a chain as built", (rows) => {
    expect(firstProblem(rows)).toBeUndefined()
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1))
  })

  const fields = ["at", "actor", "action", "target", "ip", "node", "details", "prevHash", "hash"] as const
  test.prop([chain, fc.nat(), fc.constantFrom(...fields)])("catches an edited field at its row", (rows, pick, field) => {
    const i = pick % rows.length
    const row = rows[i]!
    const edited: ChainRow = { ...row, [field]: field === "at" ? row.at + 1 : `${String(row[field])}x` }
    expect(firstProblem(rows.map((r, j) => (j === i ? edited : r)))?.seq).toBe(i + 1)
  })

  test.prop([chain, fc.nat()])("catches a deleted row at its seq", (rows, pick) => {
    const i = pick % rows.length
    const left = rows.filter((_, j) => j !== i)
    // Deleting the last row leaves a valid shorter chain: only the head row (checked by verify) tells.
    if (i === rows.length - 1) expect(firstProblem(left)).toBeUndefined()
    else expect(firstProblem(left)).toEqual({ seq: i + 1, problem: `row ${i + 1} is missing (the next row is ${i + 2})` })
  })

  test.prop([chain, fc.nat()])("catches two swapped rows, with or without their seqs swapped, at the first of them", (rows, pick) => {
    const i = pick % (rows.length - 1)
    const swapped = rows.slice()
    swapped[i] = rows[i + 1]!
    swapped[i + 1] = rows[i]!
    expect(firstProblem(swapped)?.seq).toBe(i + 1)
    const relabelled = swapped.map((r, j) => (j === i || j === i + 1 ? { ...r, seq: j + 1 } : r))
    expect(firstProblem(relabelled)?.seq).toBe(i + 1)
  })
})
