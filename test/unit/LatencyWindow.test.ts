/**
 * The status view's commit latency (src/observability/LatencyWindow.ts):
 * quantiles interpolated inside their bucket, over the observations of about
 * the last window only, and none when nothing was observed in it.
 */
import { describe, expect, it } from "vitest"
import { histogramHook } from "../../src/observability/MetricHooks.ts"
import { makeLatencyWindow, quantile } from "../../src/observability/LatencyWindow.ts"

describe("LatencyWindow", () => {
  it("interpolates a quantile inside its bucket and answers the last finite boundary past it", () => {
    const bounds = [1, 2, 5, Number.POSITIVE_INFINITY]
    // 10 observations in (2, 5]: the median is halfway through that bucket.
    expect(quantile(bounds, [0, 0, 0, 0], [0, 0, 10, 10], 0.5)).toBe(3.5)
    expect(quantile(bounds, [0, 0, 0, 0], [4, 4, 4, 4], 0.99)).toBeCloseTo(0.99, 2)
    expect(quantile(bounds, [0, 0, 0, 0], [0, 0, 0, 3], 0.5)).toBe(5)
    expect(quantile(bounds, [1, 1, 1, 1], [1, 1, 1, 1], 0.5)).toBeNull()
  })

  it("covers the observations since about a window ago, not the whole life of the histogram", () => {
    const hook = histogramHook("test_latency_window_ms", "test", [1, 10, 100, 1000])
    const window = makeLatencyWindow(hook.state, 10_000, 0)
    for (let i = 0; i < 100; i++) hook.update(500)
    expect(window(1_000)).toMatchObject({ windowMs: 1_000, count: 100, p50Ms: 550 })
    // Read every 2 s: snapshots kept at 0, 5 s and 11 s (at most one per half window).
    for (let t = 3_000; t <= 11_000; t += 2_000) window(t)
    for (let i = 0; i < 50; i++) hook.update(5)
    const later = window(21_000)
    // The base is the newest snapshot at least 10 s old (11 s): only the 50 fast ones are in it.
    expect(later).toMatchObject({ windowMs: 10_000, count: 50, p50Ms: 5.5 })
    expect(later.p99Ms).toBeLessThanOrEqual(10)
    expect(window(40_000)).toMatchObject({ count: 0, p50Ms: null, p99Ms: null })
  })
})
