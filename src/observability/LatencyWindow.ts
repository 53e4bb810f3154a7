/**
 * Recent quantiles of a latency histogram (the group commit's
 * `plexichat_commit_latency_ms`), for the node's status RPC: the change of
 * its cumulative buckets since a snapshot about `windowMs` old, with p50 and
 * p99 estimated inside their bucket by linear interpolation (as Prometheus'
 * `histogram_quantile` does). Snapshots are taken when read, at most every
 * `windowMs / 2`, so a reader polling every few seconds sees the last
 * `windowMs` to `1.5 × windowMs`; the first read covers the time since the
 * window was made. No timer, no fiber.
 */
import type { MetricState } from "effect"

export interface LatencySummary {
  /** What the figures cover, in ms (up to now). */
  readonly windowMs: number
  /** Observations in it (group-commit INSERTs). */
  readonly count: number
  readonly p50Ms: number | null
  readonly p99Ms: number | null
}

interface Snapshot {
  readonly at: number
  readonly counts: ReadonlyArray<number>
}

const countsOf = (state: MetricState.MetricState.Histogram) => state.buckets.map(([, n]) => n)

/** The `q` quantile of the observations between `base` and `current` (cumulative counts per boundary). */
export const quantile = (boundaries: ReadonlyArray<number>, base: ReadonlyArray<number>, current: ReadonlyArray<number>, q: number) => {
  const delta = current.map((n, i) => n - (base[i] ?? 0))
  const total = delta[delta.length - 1] ?? 0
  if (total <= 0) return null
  const rank = q * total
  for (let i = 0; i < delta.length; i++) {
    if (delta[i]! < rank) continue
    const lower = i === 0 ? 0 : boundaries[i - 1]!
    const upper = boundaries[i]!
    // Past the last finite boundary the best estimate is that boundary.
    if (!Number.isFinite(upper)) return lower
    const before = i === 0 ? 0 : delta[i - 1]!
    const inBucket = delta[i]! - before
    return Math.round((lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - before) / inBucket)) * 100) / 100
  }
  return null
}

/** A window over the histogram `read` returns; `since` is when counting began (the first read covers it). */
export const makeLatencyWindow = (read: () => MetricState.MetricState.Histogram, windowMs: number, since: number) => {
  const first = read()
  const boundaries = first.buckets.map(([b]) => b)
  let snapshots: Array<Snapshot> = [{ at: since, counts: countsOf(first) }]
  return (now: number): LatencySummary => {
    const current = countsOf(read())
    // The newest snapshot at least a window old, else the oldest there is.
    let baseIndex = 0
    for (let i = 0; i < snapshots.length; i++) if (snapshots[i]!.at <= now - windowMs) baseIndex = i
    const base = snapshots[baseIndex]!
    snapshots = snapshots.slice(baseIndex)
    if (now - snapshots[snapshots.length - 1]!.at >= windowMs / 2) snapshots.push({ at: now, counts: current })
    return {
      windowMs: Math.max(0, now - base.at),
      count: (current[current.length - 1] ?? 0) - (base.counts[base.counts.length - 1] ?? 0),
      p50Ms: quantile(boundaries, base.counts, current, 0.5),
      p99Ms: quantile(boundaries, base.counts, current, 0.99)
    }
  }
}
