/**
 * Replies (acks, errors, …) are coalesced per session and written in one
 * corked burst at the end of the current JavaScript turn: a batch of acks
 * completing together costs one write per socket instead of one per
 * message. Catch-up messages are not deferred (the session writes them at
 * once), so they stay ahead of live ones.
 */

export interface Writable {
  /** False once the session may no longer write (closed or being closed). */
  readonly writable: () => boolean
  /** Writes the frames now, in one corked burst. */
  readonly write: (frames: ReadonlyArray<string>) => void
}

export class ReplyBatcher {
  private readonly pending = new Map<Writable, Array<string>>()

  private readonly flush = () => {
    const batches = Array.from(this.pending)
    this.pending.clear()
    for (const [target, frames] of batches) if (target.writable()) target.write(frames)
  }

  push(target: Writable, frame: string) {
    const frames = this.pending.get(target)
    if (frames !== undefined) return void frames.push(frame)
    if (this.pending.size === 0) queueMicrotask(this.flush)
    this.pending.set(target, [frame])
  }

  forget(target: Writable) {
    this.pending.delete(target)
  }
}
