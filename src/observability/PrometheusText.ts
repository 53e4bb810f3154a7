/**
 * Effect's metric registry in the Prometheus text exposition format
 * (version 0.0.4): `# HELP` and `# TYPE` once per name, then one sample per
 * label set. Counters get the `_total` suffix when their name lacks it,
 * histograms their cumulative `_bucket{le=…}`, `_sum` and `_count`, a
 * frequency one counter sample per word (label `key`), a summary its
 * quantiles. Names and label names are made valid Prometheus identifiers.
 */
import { Metric, MetricState, Option } from "effect"
import type { MetricKey, MetricPair } from "effect"

type Kind = "counter" | "gauge" | "histogram" | "summary"

interface Family {
  readonly kind: Kind
  readonly help: string
  readonly lines: Array<string>
}

const validName = (name: string) => name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^(\d)/, "_$1")
const validLabel = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_").replace(/^(\d)/, "_$1")
const escapeValue = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

const number = (n: number | bigint) =>
  typeof n === "bigint" ? n.toString() : Number.isNaN(n) ? "NaN" : n === Infinity ? "+Inf" : n === -Infinity ? "-Inf" : String(n)

const labelsOf = (key: MetricKey.MetricKey.Untyped, extra: ReadonlyArray<readonly [string, string]> = []) => {
  const pairs = [...key.tags.map((t) => [validLabel(t.key), t.value] as const), ...extra]
  return pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(",")}}`
}

/** The family and sample lines of one metric pair, or undefined for a state this exporter does not know. */
const render = (pair: MetricPair.MetricPair.Untyped): { name: string; kind: Kind; lines: Array<string> } | undefined => {
  const key = pair.metricKey
  const state = pair.metricState
  const base = validName(key.name)
  if (MetricState.isCounterState(state)) {
    const name = base.endsWith("_total") ? base : `${base}_total`
    return { name, kind: "counter", lines: [`${name}${labelsOf(key)} ${number(state.count)}`] }
  }
  if (MetricState.isGaugeState(state)) return { name: base, kind: "gauge", lines: [`${base}${labelsOf(key)} ${number(state.value)}`] }
  if (MetricState.isHistogramState(state)) {
    const lines = state.buckets.map(([le, count]) => `${base}_bucket${labelsOf(key, [["le", number(le)]])} ${count}`)
    if (!state.buckets.some(([le]) => le === Infinity)) lines.push(`${base}_bucket${labelsOf(key, [["le", "+Inf"]])} ${state.count}`)
    lines.push(`${base}_sum${labelsOf(key)} ${number(state.sum)}`, `${base}_count${labelsOf(key)} ${state.count}`)
    return { name: base, kind: "histogram", lines }
  }
  if (MetricState.isFrequencyState(state)) {
    const name = base.endsWith("_total") ? base : `${base}_total`
    const lines = Array.from(state.occurrences, ([word, count]) => `${name}${labelsOf(key, [["key", word]])} ${count}`)
    return { name, kind: "counter", lines }
  }
  if (MetricState.isSummaryState(state)) {
    const lines = state.quantiles.flatMap(([q, value]) =>
      Option.isSome(value) ? [`${base}${labelsOf(key, [["quantile", String(q)]])} ${number(value.value)}`] : [])
    lines.push(`${base}_sum${labelsOf(key)} ${number(state.sum)}`, `${base}_count${labelsOf(key)} ${state.count}`)
    return { name: base, kind: "summary", lines }
  }
  return undefined
}

/** The text of `pairs` (by default: every metric of Effect's global registry now). */
export const prometheusText = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped> = Metric.unsafeSnapshot()): string => {
  const families = new Map<string, Family>()
  for (const pair of pairs) {
    const rendered = render(pair)
    if (rendered === undefined) continue
    const family = families.get(rendered.name)
    if (family === undefined) {
      families.set(rendered.name, { kind: rendered.kind, help: Option.getOrElse(pair.metricKey.description, () => rendered.name), lines: rendered.lines })
    } else if (family.kind === rendered.kind) {
      family.lines.push(...rendered.lines)
    }
  }
  const out: Array<string> = []
  for (const [name, family] of Array.from(families).sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${family.kind}`, ...family.lines)
  }
  return out.join("\n") + "\n"
}

/** The content type of the text format. */
export const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"
