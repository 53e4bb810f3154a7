/**
 * Where a node has read the revocation table (`plexi_revocations`) up to.
 * Rows get their `seq` from a sequence when they are inserted but commit in
 * any order: a row with a lower `seq` can become visible after a higher one.
 * So `position` only passes a missing `seq` once that row has been seen, or
 * once rows above it have been seen for `gapMs` (a rolled-back insert leaves
 * a hole for good). Rows above a hole are applied at once and remembered, so
 * reading them again (each poll reads from `position`) never applies them
 * twice.
 */
export class RevocationCursor {
  /** Applied seqs above `position`, with when each was applied. */
  private readonly seen = new Map<number, number>()

  constructor(
    /** Every seq up to this one has been applied, or given up on. */
    public position: number,
    private readonly gapMs: number
  ) {}

  /** Whether the row with `seq` is still to be applied. */
  isNew(seq: number): boolean {
    return seq > this.position && !this.seen.has(seq)
  }

  /** The row with `seq` was applied at `now`. */
  mark(seq: number, now: number) {
    if (this.isNew(seq)) this.seen.set(seq, now)
  }

  /** Moves `position` over the rows seen, and over holes that rows above them have shown for `gapMs`. */
  advance(now: number) {
    while (this.seen.size > 0) {
      let lowest = Number.POSITIVE_INFINITY
      for (const seq of this.seen.keys()) if (seq < lowest) lowest = seq
      // The holes below `lowest` have existed at least since `lowest` was seen.
      if (lowest > this.position + 1 && now - this.seen.get(lowest)! < this.gapMs) return
      this.seen.delete(lowest)
      this.position = lowest
    }
  }

  /** How many applied rows wait above a hole (0 when `position` is the highest seq seen). */
  waiting(): number {
    return this.seen.size
  }
}
