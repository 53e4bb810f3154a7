/**
 * Metric updates for the hot paths: each hook is resolved once in Effect's
 * global metric registry (so `/metrics` and the OTLP exporter see it), and an
 * update is a plain call that allocates nothing and needs no fiber, so the
 * per-message paths that run outside Effect on purpose (the direct post, the
 * fan-out, the gateway) can count. Effect's `Metric.tagged(...)` would build
 * a label array and a metric key per update; these do it once, up front.
 */
import { Metric, MetricBoundaries, MetricKey, type MetricState } from "effect"

export interface Hook {
  /** Adds to a counter or histogram; sets a gauge. */
  readonly update: (value: number) => void
}

const withLabels = <K extends MetricKey.MetricKey<any>>(key: K, labels: Readonly<Record<string, string>>): K => {
  let tagged = key
  for (const [name, value] of Object.entries(labels)) tagged = MetricKey.tagged(tagged, name, value) as K
  return tagged
}

const hookOf = (key: MetricKey.MetricKey<any>): Hook => Metric.globalMetricRegistry.get(key)

/** A counter hook that also reads its count. */
export interface CounterHook extends Hook {
  readonly count: () => number
}

/** A counter (registered now, so it shows 0 until counted). */
export const counterHook = (name: string, description: string, labels: Readonly<Record<string, string>> = {}): CounterHook => {
  const hook = Metric.globalMetricRegistry.get(withLabels(MetricKey.counter(name, { description }), labels))
  return { update: hook.update, count: () => hook.get().count }
}

/** A gauge of the last value set. */
export const gaugeHook = (name: string, description: string, labels: Readonly<Record<string, string>> = {}): Hook =>
  hookOf(withLabels(MetricKey.gauge(name, { description }), labels))

/** A histogram hook that also reads its state (cumulative buckets, count, sum) for the node's own reports. */
export interface HistogramHook extends Hook {
  readonly state: () => MetricState.MetricState.Histogram
}

/** A histogram over `boundaries` (an implicit `+Inf` bucket is added). */
export const histogramHook = (
  name: string,
  description: string,
  boundaries: ReadonlyArray<number>,
  labels: Readonly<Record<string, string>> = {}
): HistogramHook => {
  const hook = Metric.globalMetricRegistry.get(withLabels(MetricKey.histogram(name, MetricBoundaries.fromIterable(boundaries), description), labels))
  return { update: hook.update, state: hook.get }
}

/** One counter per value of `label` in `values`, looked up by that value. */
export const countersBy = <V extends string>(
  name: string,
  description: string,
  label: string,
  values: ReadonlyArray<V>,
  labels: Readonly<Record<string, string>> = {}
): Readonly<Record<V, CounterHook>> =>
  Object.fromEntries(values.map((v) => [v, counterHook(name, description, { ...labels, [label]: v })])) as Record<V, CounterHook>

/**
 * Counters keyed by a label whose values are not known up front (an error's
 * tag): made on first use, then a Map lookup per update.
 */
export const lazyCountersBy = (name: string, description: string, label: string, labels: Readonly<Record<string, string>> = {}) => {
  const hooks = new Map<string, Hook>()
  return (value: string): Hook => {
    let hook = hooks.get(value)
    if (hook === undefined) {
      hook = counterHook(name, description, { ...labels, [label]: value })
      hooks.set(value, hook)
    }
    return hook
  }
}
