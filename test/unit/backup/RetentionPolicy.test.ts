/** The retention policy's choice: newest N fulls, newest M incrementals of kept chains with every link they need. */
import { describe, expect, it } from "vitest"
import { expired, type RetainedEntry } from "../../../src/backup/retention/RetentionPolicy.ts"

const full = (id: string, at: number): RetainedEntry => ({ id, kind: "full", parent: null, state: "committed", createdAt: at })
const inc = (id: string, parent: string, at: number, state: RetainedEntry["state"] = "committed"): RetainedEntry => ({ id, kind: "incremental", parent, state, createdAt: at })

// f1 ← i1 ← i2,  f2 ← i3 ← i4,  f3
const catalog = [full("f1", 1), inc("i1", "f1", 2), inc("i2", "i1", 3), full("f2", 4), inc("i3", "f2", 5), inc("i4", "i3", 6), full("f3", 7)]
const ids = (entries: ReadonlyArray<RetainedEntry>) => entries.map((e) => e.id).sort()

describe("retention policy", () => {
  it("keeps the newest N full backups, and an incremental only with its chain's full", () => {
    expect(ids(expired(catalog, { keepFull: 2 }))).toEqual(["f1", "i1", "i2"])
    expect(ids(expired(catalog, { keepFull: 1 }))).toEqual(["f1", "f2", "i1", "i2", "i3", "i4"])
  })

  it("keeps the newest M incrementals and every older link they need", () => {
    expect(ids(expired(catalog, { keepFull: 3, keepIncremental: 1 }))).toEqual(["i1", "i2"])
    expect(ids(expired(catalog, { keepIncremental: 0 }))).toEqual(["i1", "i2", "i3", "i4"])
  })

  it("never lets go of what a running backup builds on, nor of running or failed entries", () => {
    const running = [...catalog, inc("r1", "i2", 8, "running"), { ...full("x", 9), state: "failed" as const }]
    expect(ids(expired(running, { keepFull: 1, keepIncremental: 0 }))).toEqual(["f2", "i3", "i4"])
  })

  it("lets go of an incremental whose chain has no full backup left", () => {
    expect(ids(expired([inc("o1", "gone", 1), full("f", 2)], {}))).toEqual(["o1"])
  })
})
