import { Metric, MetricBoundaries, MetricKey } from "effect"
import { describe, expect, it } from "vitest"
import { parsePrometheus } from "../fixtures/PrometheusScrape.ts"
import { prometheusText } from "../../src/observability/PrometheusText.ts"
import { counterHook, histogramHook } from "../../src/observability/MetricHooks.ts"

const pairsNamed = (prefix: string) => Metric.unsafeSnapshot().filter((p) => p.metricKey.name.startsWith(prefix))

describe("prometheusText", () => {
  it("renders counters with _total, escapes label values, and histograms as cumulative buckets with +Inf, sum and count", () => {
    counterHook("ptest_hits", "Hits\nwith a newline", { path: "a\"b\\c" }).update(3)
    const h = histogramHook("ptest_latency_ms", "Latency", [1, 10])
    for (const v of [0.5, 5, 5, 50]) h.update(v)
    const text = prometheusText(pairsNamed("ptest_"))
    expect(text).toContain("# HELP ptest_hits_total Hits\\nwith a newline\n# TYPE ptest_hits_total counter\n")
    expect(text).toContain("ptest_hits_total{path=\"a\\\"b\\\\c\"} 3\n")
    const parsed = parsePrometheus(text)
    expect(parsed.value("ptest_hits_total", { path: "a\"b\\c" })).toBe(3)
    expect(parsed.types.get("ptest_latency_ms")).toBe("histogram")
    expect(parsed.value("ptest_latency_ms_bucket", { le: "1" })).toBe(1)
    expect(parsed.value("ptest_latency_ms_bucket", { le: "10" })).toBe(3)
    expect(parsed.value("ptest_latency_ms_bucket", { le: "+Inf" })).toBe(4)
    expect(parsed.value("ptest_latency_ms_sum")).toBe(60.5)
    expect(parsed.value("ptest_latency_ms_count")).toBe(4)
  })

  it("makes invalid names valid and declares each family once across label sets", () => {
    Metric.globalMetricRegistry.get(MetricKey.gauge("ptest.odd-name", { description: "odd" }).pipe(MetricKey.tagged("a", "1"))).update(1)
    Metric.globalMetricRegistry.get(MetricKey.gauge("ptest.odd-name", { description: "odd" }).pipe(MetricKey.tagged("a", "2"))).update(2)
    Metric.globalMetricRegistry.get(MetricKey.histogram("ptest_h2", MetricBoundaries.fromIterable([1]))).update(1)
    const parsed = parsePrometheus(prometheusText(pairsNamed("ptest")))
    expect(parsed.types.get("ptest_odd_name")).toBe("gauge")
    expect(parsed.value("ptest_odd_name")).toBe(3)
  })
})
