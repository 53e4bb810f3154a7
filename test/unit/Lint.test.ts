/**
 * `npm run lint` is oxlint with the repository's `.oxlintrc.json`. Each rule
 * is shown to fire on a seeded violation: the real config file is copied into
 * a temporary tree laid out like the repository (domain/, src/, runtime/, …)
 * and oxlint runs there; then the real tree must pass with no diagnostic.
 */
import { spawnSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"

const repoRoot = path.resolve(import.meta.dirname, "..", "..")
const oxlint = path.join(repoRoot, "node_modules", ".bin", "oxlint")

interface Finding {
  readonly file: string
  readonly line: number
  readonly rule: string
  readonly text: string
}

const roots: Array<string> = []
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

const runOxlint = (cwd: string, configFile: string): { status: number | null; findings: Array<Finding>; raw: string } => {
  expect(existsSync(oxlint), `oxlint is not installed at ${oxlint}: run npm install`).toBe(true)
  const result = spawnSync(oxlint, ["-c", configFile, "-f", "json", "--deny-warnings", "."], {
    cwd,
    encoding: "utf8",
    timeout: 60_000
  })
  expect(result.error, String(result.error)).toBeUndefined()
  const report = JSON.parse(result.stdout) as {
    diagnostics: Array<{ filename: string; code: string; message: string; help?: string; labels: Array<{ span: { line: number } }> }>
  }
  const findings = report.diagnostics.map((d) => ({
    file: d.filename,
    line: d.labels[0]?.span.line ?? 0,
    rule: d.code,
    text: `${d.message} ${d.help ?? ""}`
  }))
  return { status: result.status, findings, raw: result.stdout + result.stderr }
}

/** Lints a temporary tree of `files` with the repository's own `.oxlintrc.json`. */
const lintTree = (files: Record<string, string>): Array<Finding> => {
  const root = mkdtempSync(path.join(tmpdir(), "plexi-lint-"))
  roots.push(root)
  copyFileSync(path.join(repoRoot, ".oxlintrc.json"), path.join(root, ".oxlintrc.json"))
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(root, rel)
    mkdirSync(path.dirname(full), { recursive: true })
    writeFileSync(full, content)
  }
  return runOxlint(root, ".oxlintrc.json").findings
}

const at = (findings: ReadonlyArray<Finding>, file: string, rule: string) =>
  findings.filter((f) => f.file === file && f.rule === rule).map((f) => f.line).sort((a, b) => a - b)

const restricted = "eslint(no-restricted-imports)"

describe("oxlint (.oxlintrc.json)", () => {
  it("import/no-cycle reports a runtime import cycle but not a type-only one", () => {
    const findings = lintTree({
      "src/A.ts": `import { b } from "./B.ts"\nexport const a = () => b\n`,
      "src/B.ts": `import { c } from "./C.ts"\nexport const b = () => c\n`,
      "src/C.ts": `// closes the cycle\nimport { a } from "./A.ts"\nexport const c = () => a\n`,
      "src/TypeA.ts": `import type { TB } from "./TypeB.ts"\nexport type TA = { b?: TB }\n`,
      "src/TypeB.ts": `import type { TA } from "./TypeA.ts"\nexport type TB = { a?: TA }\n`
    })
    expect(at(findings, "src/A.ts", "import(no-cycle)")).toEqual([1])
    expect(at(findings, "src/C.ts", "import(no-cycle)")).toEqual([2])
    expect(findings.filter((f) => f.file.startsWith("src/Type"))).toEqual([])
  })

  it("no-restricted-imports keeps domain <- src <- runtime <- test (type-only imports included)", () => {
    const findings = lintTree({
      "domain/Message.ts": [
        `import { S } from "../src/S.ts"`,
        `import type { R } from "../runtime/R.ts"`,
        `import { h } from "../test/h.ts"`,
        `import { Id } from "./Id.ts"`,
        `import { Schema } from "effect"`,
        `export const all = [S, h, Id, Schema]`,
        `export type M = R`,
        ``
      ].join("\n"),
      "domain/Id.ts": `export const Id = 1\n`,
      "src/S.ts": `import { Id } from "../domain/Id.ts"\nimport { r } from "../runtime/R.ts"\nexport const S = [Id, r]\n`,
      "src/deep/Deep.ts": `import { r } from "../../runtime/R.ts"\nimport { Id } from "../../domain/Id.ts"\nexport const d = [r, Id]\n`,
      "runtime/R.ts": `import { h } from "../test/h.ts"\nexport type R = string\nexport const r = h\n`,
      "runtime/edge/Ok.ts": `import { Id } from "../../domain/Id.ts"\nexport const ok = Id\n`,
      "scripts/tool.ts": `import { h } from "../test/h.ts"\nimport { r } from "../runtime/R.ts"\nexport const t = [h, r]\n`,
      "test/h.ts": `export const h = 1\n`,
      "test/Uses.ts": `import { r } from "../runtime/R.ts"\nimport { S } from "../src/S.ts"\nimport { t } from "../scripts/tool.ts"\nexport const all = [r, S, t]\n`
    })
    expect(at(findings, "domain/Message.ts", restricted)).toEqual([1, 2, 3])
    expect(findings.find((f) => f.file === "domain/Message.ts")?.text).toContain("imports flow domain <- src <- runtime <- test")
    expect(at(findings, "src/S.ts", restricted)).toEqual([2])
    expect(at(findings, "src/deep/Deep.ts", restricted)).toEqual([1])
    expect(at(findings, "runtime/R.ts", restricted)).toEqual([1])
    expect(at(findings, "scripts/tool.ts", restricted)).toEqual([1])
    expect(findings.filter((f) => ["runtime/edge/Ok.ts", "test/Uses.ts", "domain/Id.ts"].includes(f.file))).toEqual([])
  })

  it("src/cli/ may not import runtime/: the CLI's entry point (wiring) lives in runtime/cli/", () => {
    const findings = lintTree({
      "src/cli/Commands.ts": `import { m } from "../../runtime/cli/M.ts"\nexport const o = m\n`,
      "runtime/cli/Main.ts": `import { o } from "../../src/cli/Commands.ts"\nimport { m } from "./M.ts"\nexport const all = [o, m]\n`,
      "runtime/cli/M.ts": `export const m = 1\n`
    })
    expect(at(findings, "src/cli/Commands.ts", restricted)).toEqual([1])
    expect(at(findings, "runtime/cli/Main.ts", restricted)).toEqual([])
  })

  it("no-restricted-imports keeps Node I/O modules out of domain/ (browser-importable) but not out of runtime/", () => {
    const io = ["node:fs", "fs/promises", "net", "pg", "uWebSockets.js", "ws", "@effect/sql-pg", "@effect/platform-node", "@effect/platform-node-shared/NodeSocket", "@electric-sql/pglite"]
    const source = io.map((m, i) => `import * as m${i} from "${m}"`).join("\n") +
      `\nimport { Schema } from "effect"\nimport * as Rpc from "@effect/rpc/Rpc"\nexport const all = [${io.map((_, i) => `m${i}`).join(", ")}, Schema, Rpc]\n`
    const findings = lintTree({ "domain/Pure.ts": source, "runtime/Io.ts": source })
    expect(at(findings, "domain/Pure.ts", restricted)).toEqual(io.map((_, i) => i + 1))
    expect(findings.find((f) => f.file === "domain/Pure.ts")?.text).toContain("browser bundle")
    expect(at(findings, "runtime/Io.ts", restricted)).toEqual([])
  })

  it("no-restricted-imports refuses every Node built-in in domain/, with and without the node: prefix", () => {
    const names = builtinModules.filter((m) => !m.startsWith("_"))
    const lines = names.flatMap((m) => [`import "${m}"`, `import "node:${m}"`])
    const findings = lintTree({ "domain/Builtins.ts": lines.join("\n") + "\n" })
    expect(at(findings, "domain/Builtins.ts", restricted)).toEqual(lines.map((_, i) => i + 1))
  })

  it("no-restricted-globals keeps Node globals (process, Buffer, require, __dirname) out of domain/", () => {
    const source = [
      `export const exit = () => process.exit(1)`,
      `export const bytes = Buffer.from("x")`,
      `export const here = __dirname`,
      `export const load = () => require("x")`,
      `export const fine = new TextEncoder().encode("x")`,
      ``
    ].join("\n")
    const findings = lintTree({ "domain/Globals.ts": source, "src/Globals.ts": source })
    expect(at(findings, "domain/Globals.ts", "eslint(no-restricted-globals)")).toEqual([1, 2, 3, 4])
    expect(at(findings, "src/Globals.ts", "eslint(no-restricted-globals)")).toEqual([])
  })

  it("node/no-process-env refuses process.env outside the config modules", () => {
    const reads = `export const port = process.env.PORT\n`
    const findings = lintTree({
      "domain/D.ts": reads,
      "src/api/S.ts": reads,
      "runtime/Node.ts": reads,
      "runtime/edge/Edge.ts": `export const { env } = process\nexport const p = process.env["PORT"]\n`,
      "scripts/Tool.ts": reads,
      "examples/demo.ts": reads,
      // Config modules: runtime/**/Config*.ts, runtime/config/**, <Unit>Config.ts.
      "runtime/Config.ts": reads,
      "runtime/cluster/ConfigCluster.ts": reads,
      "runtime/config/Ports.ts": reads,
      "runtime/edge/WsConfig.ts": reads,
      "src/api/RateLimitConfig.ts": reads,
      "test/fixtures/Node.ts": reads
    })
    const flagged = [...new Set(findings.filter((f) => f.rule === "node(no-process-env)").map((f) => f.file))].sort()
    expect(flagged).toEqual(["domain/D.ts", "examples/demo.ts", "runtime/Node.ts", "runtime/edge/Edge.ts", "scripts/Tool.ts", "src/api/S.ts"])
    expect(at(findings, "runtime/edge/Edge.ts", "node(no-process-env)")).toEqual([2])
  })

  it("max-lines (300 per file) and max-lines-per-function (80) hold in domain/, src/ and runtime/, not in test/", () => {
    const longFile = Array.from({ length: 301 }, (_, i) => `export const v${i} = ${i}`).join("\n") + "\n"
    const body = Array.from({ length: 80 }, (_, i) => `  const x${i} = ${i}`).join("\n")
    const longFunction = `export const f = () => {\n${body}\n  return x0\n}\n`
    const fitsFunction = `export const g = () => {\n${Array.from({ length: 77 }, (_, i) => `  const y${i} = ${i}`).join("\n")}\n  return y0\n}\n`
    const findings = lintTree({
      "domain/Long.ts": longFile,
      "src/Fn.ts": longFunction,
      "runtime/Fn.ts": longFunction,
      "runtime/Fits.ts": fitsFunction,
      "test/Long.ts": longFile + longFunction.replace("const f", "const f2")
    })
    expect(at(findings, "domain/Long.ts", "eslint(max-lines)")).toHaveLength(1)
    expect(at(findings, "src/Fn.ts", "eslint(max-lines-per-function)")).toEqual([1])
    expect(at(findings, "runtime/Fn.ts", "eslint(max-lines-per-function)")).toEqual([1])
    const sizeRules = ["eslint(max-lines)", "eslint(max-lines-per-function)"]
    expect(findings.filter((f) => sizeRules.includes(f.rule) && (f.file === "runtime/Fits.ts" || f.file === "test/Long.ts"))).toEqual([])
  })

  it("the repository itself passes `npm run lint` with no error and no warning", () => {
    const { status, findings, raw } = runOxlint(repoRoot, ".oxlintrc.json")
    expect(findings.map((f) => `${f.file}:${f.line} ${f.rule} ${f.text}`)).toEqual([])
    expect(status, raw).toBe(0)
  })
})
