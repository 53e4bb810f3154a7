/**
 * The revocation feed's pure parts: the seq cursor that reads a table whose
 * rows commit out of seq order (every committed row applied exactly once,
 * holes passed only after the gap timeout), the in-memory set (sessions kept
 * until their tokens expire, a late account event never undoing a newer
 * one), and the administration rules.
 */
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import type { SessionId, UserId } from "../../domain/Ids.ts"
import { refusal } from "../../src/auth/AdminPolicy.ts"
import { RevocationCursor } from "../../src/auth/RevocationCursor.ts"
import { type RevocationRow, RevocationSet } from "../../src/auth/RevocationSet.ts"

const GAP_MS = 10_000
const sid = (s: string) => s as SessionId
const uid = (s: string) => s as UserId

/** One poll as the node runs it: the rows committed so far with seq > position, in seq order. */
const poll = (cursor: RevocationCursor, committed: ReadonlySet<number>, now: number, applied: Array<number>) => {
  for (const seq of [...committed].filter((s) => s > cursor.position).sort((a, b) => a - b)) {
    if (!cursor.isNew(seq)) continue
    cursor.mark(seq, now)
    applied.push(seq)
  }
  cursor.advance(now)
}

describe("revocation cursor", () => {
  test.prop([
    fc.integer({ min: 1, max: 40 }).chain((n) =>
      fc.record({
        n: fc.constant(n),
        // The order rows commit in, and which inserts roll back (leaving holes for good).
        order: fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i + 1), { minLength: n, maxLength: n }),
        rolledBack: fc.uniqueArray(fc.integer({ min: 1, max: n }), { maxLength: 5 }),
        pollsBetween: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n })
      })
    )
  ])("applies every committed row exactly once whatever the commit order, and passes holes only after the gap timeout", ({ n, order, pollsBetween, rolledBack }) => {
    const cursor = new RevocationCursor(0, GAP_MS)
    const committed = new Set<number>()
    const applied: Array<number> = []
    let now = 0
    order.forEach((seq, i) => {
      if (!rolledBack.includes(seq)) committed.add(seq)
      for (let p = 0; p < pollsBetween[i]!; p++) poll(cursor, committed, (now += 100), applied)
      // Never past a hole that is younger than the timeout: its row may still commit.
      for (let s = 1; s <= cursor.position; s++) expect(committed.has(s) || now >= GAP_MS).toBe(true)
    })
    poll(cursor, committed, (now += 100), applied)
    expect([...applied].sort((a, b) => a - b)).toEqual([...committed].sort((a, b) => a - b))
    // Once the holes are older than the timeout, the cursor reaches the highest committed row.
    poll(cursor, committed, (now += GAP_MS), applied)
    const highest = Math.max(0, ...committed)
    expect(cursor.position).toBe(highest)
    expect(new Set(applied).size).toBe(applied.length)
    expect(applied.length).toBe(n - rolledBack.length)
  })

  it("waits at a hole for the gap timeout, keeps what it saw above it, and passes a run of holes at once", () => {
    const cursor = new RevocationCursor(10, GAP_MS)
    cursor.mark(14, 1_000)
    cursor.advance(1_000)
    expect(cursor.position).toBe(10)
    expect(cursor.isNew(14)).toBe(false)
    cursor.mark(11, 2_000)
    cursor.advance(2_000)
    expect(cursor.position).toBe(11)
    cursor.advance(10_999)
    expect(cursor.position).toBe(11)
    cursor.advance(11_000)
    expect(cursor.position).toBe(14)
    expect(cursor.waiting()).toBe(0)
  })
})

const row = (seq: number, kind: RevocationRow["kind"], userId: string, sessionId: string | null = null, until = 100_000): RevocationRow => ({
  seq,
  kind,
  userId: uid(userId),
  sessionId: sessionId === null ? null : sid(sessionId),
  until
})

describe("revocation set", () => {
  it("refuses an ended session until its tokens have expired, and tells each newly ended session once", () => {
    const set = new RevocationSet()
    const ended = set.apply([row(1, "session", "alice", "s1", 5_000), row(2, "session", "alice", "s2", 500)], 1_000)
    expect([...ended.sessions]).toEqual(["s1"])
    expect(set.reasonFor(uid("alice"), sid("s1"))).toBe("session_revoked")
    expect(set.reasonFor(uid("alice"), sid("s2"))).toBeUndefined()
    expect(set.reasonFor(uid("alice"), sid("s3"))).toBeUndefined()
    expect(set.apply([row(3, "session", "alice", "s1", 6_000)], 1_000).sessions.size).toBe(0)
    set.prune(5_999)
    expect(set.reasonFor(uid("alice"), sid("s1"))).toBe("session_revoked")
    set.prune(6_000)
    expect(set.reasonFor(uid("alice"), sid("s1"))).toBeUndefined()
  })

  it("disables and enables accounts in seq order, and a late row never undoes a newer event", () => {
    const set = new RevocationSet()
    set.loadDisabled([uid("bob")])
    expect(set.reasonFor(uid("bob"), undefined)).toBe("account_disabled")
    expect([...set.apply([row(5, "user_disabled", "carol"), row(6, "user_enabled", "bob")], 0).users]).toEqual(["carol"])
    expect(set.reasonFor(uid("bob"), sid("s"))).toBeUndefined()
    expect(set.reasonFor(uid("carol"), sid("s"))).toBe("account_disabled")
    set.apply([row(8, "user_enabled", "carol")], 0)
    // Seq 7 committed late: carol's newer enable (8) stands.
    expect(set.apply([row(7, "user_disabled", "carol")], 0).users.size).toBe(0)
    expect(set.reasonFor(uid("carol"), undefined)).toBeUndefined()
    // Disabled and enabled within one batch: nothing to close.
    expect(set.apply([row(9, "user_disabled", "dan"), row(10, "user_enabled", "dan")], 0).users.size).toBe(0)
  })
})

describe("account administration rules", () => {
  const party = (userId: string, role: "owner" | "admin" | "member", disabled = false) => ({ userId: uid(userId), role, disabled })

  it("lets owners and admins act on others, never on themselves, never an admin on an owner, never leaving no enabled owner", () => {
    const owner = party("o", "owner")
    const adminUser = party("a", "admin")
    const member = party("m", "member")
    expect(refusal(owner, member, "disable", 1)).toBeUndefined()
    expect(refusal(adminUser, member, "password", 1)).toBeUndefined()
    expect(refusal(adminUser, party("a2", "admin"), "disable", 1)).toBeUndefined()
    expect(refusal(member, adminUser, "disable", 1)).toMatchObject({ _tag: "Forbidden" })
    // A member learns nothing about the target, not even whether it exists.
    expect(refusal(member, undefined, "disable", 1)).toMatchObject({ _tag: "Forbidden" })
    expect(refusal(adminUser, undefined, "disable", 1)).toEqual({ _tag: "NotFound" })
    expect(refusal(party("a", "admin", true), member, "disable", 1)).toMatchObject({ _tag: "Forbidden" })
    expect(refusal(owner, owner, "disable", 1)).toMatchObject({ _tag: "Forbidden" })
    expect(refusal(adminUser, owner, "password", 1)).toMatchObject({ _tag: "Forbidden" })
    expect(refusal(owner, party("o2", "owner"), "disable", 2)).toBeUndefined()
    expect(refusal(owner, party("o2", "owner"), "disable", 1)).toMatchObject({ message: "the last owner cannot be disabled" })
    expect(refusal(owner, party("o2", "owner", true), "enable", 1)).toBeUndefined()
  })
})
