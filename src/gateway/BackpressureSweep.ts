/**
 * Slow consumers among subscribed sessions. Live messages go out through uWS
 * `publish`, which a session never sees, so sessions with subscriptions are
 * checked on a timer (rounds with no publish since the last are skipped:
 * send buffers only grow through publishes, and direct sends are checked as
 * they happen).
 */

export interface Sweepable {
  readonly checkBackpressure: () => void
}

export class BackpressureSweep {
  private readonly watched = new Set<Sweepable>()
  private timer: ReturnType<typeof setInterval> | undefined
  private lastPublished = -1

  constructor(
    private readonly intervalMs: number,
    private readonly publishedCount: () => number,
    private readonly onError: (error: unknown) => void
  ) {}

  watch(session: Sweepable) {
    this.watched.add(session)
    if (this.timer !== undefined) return
    this.lastPublished = -1
    this.timer = setInterval(() => this.sweep(), this.intervalMs)
    this.timer.unref?.()
  }

  unwatch(session: Sweepable) {
    this.watched.delete(session)
    if (this.watched.size === 0) this.stop()
  }

  stop() {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private sweep() {
    const published = this.publishedCount()
    if (published === this.lastPublished) return
    this.lastPublished = published
    for (const session of Array.from(this.watched)) {
      try {
        session.checkBackpressure()
      } catch (error) {
        this.onError(error)
      }
    }
  }
}
