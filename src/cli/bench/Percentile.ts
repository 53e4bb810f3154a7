/** Nearest-rank percentiles of latency samples (the bench command's and test/bench's). */

/** Nearest-rank percentile of sorted samples (`NaN` for none). */
export const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/** p50 and p99 of unsorted samples, in ms rounded to 0.1 (`null` for no samples). */
export const p50p99 = (samples: ReadonlyArray<number>) => {
  const sorted = [...samples].sort((a, b) => a - b)
  const round = (v: number) => (Number.isNaN(v) ? null : Math.round(v * 10) / 10)
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), samples: sorted.length }
}
