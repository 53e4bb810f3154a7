/**
 * ops/alerts.yml, ops/prometheus/prometheus.yml and ops/grafana/plexichat.json, offline:
 * - a parse test: the rule file has the shape Prometheus loads (groups of rules with `alert`, `expr`, `for`, a
 *   severity and a summary), the alerts the operations doc promises exist, and every metric the rules and the
 *   dashboard query is one a node exports (the names in docs/OPERATIONS.md's metrics table) or Prometheus's `up`;
 * - with promtool (on PATH, or named by PROMTOOL): `promtool check rules` and `promtool test rules
 *   ops/alerts.test.yml`, which fires each alert on synthetic series.
 */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"

const root = path.resolve(import.meta.dirname, "..", "..")
const read = (file: string) => readFileSync(path.join(root, file), "utf8")

const promtool = (() => {
  const candidate = process.env.PROMTOOL ?? "promtool"
  try {
    execFileSync(candidate, ["--version"], { stdio: "pipe" })
    return candidate
  } catch {
    return undefined
  }
})()

/** Metric names in docs/OPERATIONS.md's metrics table (first column), as scraped. */
const documentedMetrics = () => {
  const names = new Set<string>(["up"])
  for (const line of read("docs/OPERATIONS.md").split("\n")) {
    if (!line.startsWith("| `plexichat_") && !line.startsWith("| `effect_cluster_")) continue
    for (const m of line.split("|")[1]!.matchAll(/`([a-z_]+)`/g)) names.add(m[1]!)
  }
  return names
}

/** The metric names an expression reads (identifiers followed by `{`, `[` or nothing PromQL calls a function). */
const metricsOf = (expr: string) =>
  Array.from(expr.matchAll(/\b(plexichat_[a-z_]+|effect_cluster_[a-z_]+|up)\b(?=\s*[{[)\s]|$)/g), (m) => m[1]!)
    .map((name) => name.replace(/_(bucket|sum|count)$/, ""))

describe("ops/alerts.yml", () => {
  const doc = parse(read("ops/alerts.yml"))
  const rules: Array<any> = doc.groups.flatMap((g: any) => g.rules)

  it("has the alerts docs/OPERATIONS.md lists, each with expr, for, severity and a summary", () => {
    expect(rules.map((r) => r.alert)).toEqual([
      "PlexiNodeDown",
      "PlexiCommitLatencyHigh",
      "PlexiFanOutLagHigh",
      "PlexiServerErrors",
      "PlexiEventLoopLagHigh",
      "PlexiBackupFailing"
    ])
    for (const rule of rules) {
      expect(typeof rule.expr).toBe("string")
      expect(rule.for).toMatch(/^\d+[smh]$/)
      expect(["warning", "critical"]).toContain(rule.labels.severity)
      expect(rule.annotations.summary.length).toBeGreaterThan(10)
      expect(read("docs/OPERATIONS.md")).toContain(`\`${rule.alert}\``)
    }
  })

  it("queries only metrics a node exports", () => {
    const known = documentedMetrics()
    const unknown = rules.flatMap((r) => metricsOf(r.expr)).filter((name) => !known.has(name))
    expect(unknown).toEqual([])
  })

  it.skipIf(promtool === undefined)("passes promtool check rules and promtool test rules", () => {
    expect(execFileSync(promtool!, ["check", "rules", "ops/alerts.yml"], { cwd: root, encoding: "utf8" })).toContain("SUCCESS: 6 rules found")
    expect(execFileSync(promtool!, ["test", "rules", "alerts.test.yml"], { cwd: path.join(root, "ops"), encoding: "utf8" })).toContain("SUCCESS")
  })
})

describe("ops/grafana/plexichat.json and ops/prometheus/prometheus.yml", () => {
  it("the dashboard's panels query only metrics a node exports, from the plexichat job", () => {
    const dashboard = JSON.parse(read("ops/grafana/plexichat.json"))
    expect(dashboard.uid).toBe("plexichat")
    const exprs: Array<string> = dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr))
    expect(exprs.length).toBeGreaterThanOrEqual(14)
    const known = documentedMetrics()
    for (const expr of exprs) {
      expect(expr).toContain("job=\"plexichat\"")
      for (const name of metricsOf(expr)) expect(known.has(name), `${name} in ${expr}`).toBe(true)
    }
  })

  it("scrapes every node replica's /metrics as the plexichat job and loads the alert rules", () => {
    const config = parse(read("ops/prometheus/prometheus.yml"))
    expect(config.rule_files).toEqual(["/etc/prometheus/alerts.yml"])
    const job = config.scrape_configs.find((j: any) => j.job_name === "plexichat")
    expect(job.metrics_path).toBe("/metrics")
    expect(job.dns_sd_configs).toEqual([expect.objectContaining({ names: ["node"], type: "A", port: 8080 })])
  })
})
