/**
 * PlexiChat import/architecture checker (dependency-free).
 *
 * Usage: `tsx scripts/lint.ts [root]`  (root defaults to the repository root)
 *
 * Scans `.ts` files under domain/, src/, runtime/ and examples/ and reports:
 *  - layer:       domain/ importing src/, runtime/ or test/; src/ importing runtime/ or test/;
 *                 runtime/ importing test/
 *  - io-import:   domain/ importing an I/O module (pg, uWebSockets.js, node builtins,
 *                 @effect/sql-pg, @effect/platform-node, @electric-sql/*, ...)
 *  - cycle:       an import cycle among project files (type-only `import type` /
 *                 `export type` edges are erased at runtime, and dynamic `import()` is
 *                 deferred, so neither counts towards cycles; both still obey layer rules)
 *  - process-env: `process.env` used in domain/ or src/ (use Effect Config in runtime/)
 *  - unresolved:  a relative import that does not resolve to a file
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs"
import { builtinModules } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export type Rule = "layer" | "io-import" | "cycle" | "process-env" | "unresolved"

export interface Violation {
  readonly rule: Rule
  /** Path relative to the checked root, with `/` separators. */
  readonly file: string
  /** 1-based line number. */
  readonly line: number
  readonly message: string
}

export interface ImportRef {
  readonly specifier: string
  readonly line: number
  /** `import type ...` / `export type ... from` — erased at runtime. */
  readonly typeOnly: boolean
  readonly kind: "static" | "dynamic" | "require"
}

export const SCANNED_DIRS = ["domain", "src", "runtime", "examples"] as const

const SOURCE_EXTS = [".ts", ".mts", ".cts", ".tsx"]

/** Which top-level project folders each layer may NOT import from. */
const FORBIDDEN_LAYERS: Readonly<Record<string, ReadonlyArray<string>>> = {
  domain: ["src", "runtime", "test"],
  src: ["runtime", "test"],
  runtime: ["test"]
}

const PROCESS_ENV_LAYERS = new Set(["domain", "src"])

const BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, "")))

/** Bare module names that perform I/O and are forbidden in domain/. */
const IO_PACKAGES = new Set([
  "pg",
  "pg-pool",
  "pg-cursor",
  "pg-protocol",
  "postgres",
  "uWebSockets.js",
  "ws",
  "undici",
  "@effect/sql-pg",
  "@effect/platform-node",
  "@effect/platform-node-shared"
])
const IO_SCOPES = ["@electric-sql/"]

const packageName = (spec: string): string => {
  const parts = spec.split("/")
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!
}

export const isIoModule = (spec: string): boolean => {
  if (spec.startsWith("node:")) return true
  const pkg = packageName(spec)
  if (BUILTINS.has(pkg)) return true
  if (IO_PACKAGES.has(pkg)) return true
  return IO_SCOPES.some((scope) => spec.startsWith(scope))
}

// ---------------------------------------------------------------------------
// Source scanning
// ---------------------------------------------------------------------------

/** Keywords after which a `/` starts a regular expression rather than a division. */
const REGEX_PRECEDING_WORDS = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await"
])

/**
 * Returns two same-length copies of `source` (newlines preserved, so offsets map to lines):
 *  - `code`: comments and regex literals blanked, string literals kept
 *  - `bare`: additionally string/template literal contents blanked
 */
export const stripSource = (source: string): { code: string; bare: string } => {
  const code: Array<string> = []
  const bare: Array<string> = []
  const n = source.length
  let i = 0
  // Stack of template-literal brace depths: when we hit `${` inside a template we push 0 and
  // count braces until the matching `}` returns us into the template.
  const templateStack: Array<number> = []
  let lastSignificant = "" // last non-space code char (or word) for regex detection

  const blank = (ch: string): string => (ch === "\n" || ch === "\r" ? ch : " ")
  const emit = (ch: string, keepInCode: boolean, keepInBare: boolean): void => {
    code.push(keepInCode ? ch : blank(ch))
    bare.push(keepInBare ? ch : blank(ch))
  }

  const regexAllowed = (): boolean => {
    if (lastSignificant === "") return true
    if (REGEX_PRECEDING_WORDS.has(lastSignificant)) return true
    if (/^[A-Za-z0-9_$]/.test(lastSignificant)) return false
    return !(lastSignificant === ")" || lastSignificant === "]" || lastSignificant === "}")
  }

  const readTemplateBody = (): void => {
    // i points just after the opening backtick (or after the `}` closing a substitution)
    while (i < n) {
      const ch = source[i]!
      if (ch === "\\") {
        emit(ch, true, false)
        if (i + 1 < n) emit(source[i + 1]!, true, false)
        i += 2
        continue
      }
      if (ch === "`") {
        emit(ch, true, true)
        i++
        lastSignificant = "`"
        return
      }
      if (ch === "$" && source[i + 1] === "{") {
        emit("$", true, true)
        emit("{", true, true)
        i += 2
        templateStack.push(0)
        lastSignificant = "{"
        return
      }
      emit(ch, true, false)
      i++
    }
  }

  while (i < n) {
    const ch = source[i]!
    const next = source[i + 1]
    // line comment
    if (ch === "/" && next === "/") {
      while (i < n && source[i] !== "\n") {
        emit(source[i]!, false, false)
        i++
      }
      continue
    }
    // block comment
    if (ch === "/" && next === "*") {
      emit("/", false, false)
      emit("*", false, false)
      i += 2
      while (i < n && !(source[i] === "*" && source[i + 1] === "/")) {
        emit(source[i]!, false, false)
        i++
      }
      if (i < n) {
        emit("*", false, false)
        emit("/", false, false)
        i += 2
      }
      continue
    }
    // string literal
    if (ch === "'" || ch === '"') {
      emit(ch, true, true)
      i++
      while (i < n && source[i] !== ch && source[i] !== "\n") {
        if (source[i] === "\\" && i + 1 < n) {
          emit(source[i]!, true, false)
          i++
        }
        emit(source[i]!, true, false)
        i++
      }
      if (i < n && source[i] === ch) {
        emit(ch, true, true)
        i++
      }
      lastSignificant = ch
      continue
    }
    // template literal
    if (ch === "`") {
      emit(ch, true, true)
      i++
      readTemplateBody()
      continue
    }
    // braces (template substitution tracking)
    if (ch === "{" && templateStack.length > 0) {
      templateStack[templateStack.length - 1]!++
    } else if (ch === "}" && templateStack.length > 0) {
      if (templateStack[templateStack.length - 1] === 0) {
        templateStack.pop()
        emit(ch, true, true)
        i++
        readTemplateBody()
        continue
      }
      templateStack[templateStack.length - 1]!--
    }
    // regex literal
    if (ch === "/" && regexAllowed()) {
      emit(ch, false, false)
      i++
      let inClass = false
      while (i < n && source[i] !== "\n") {
        const c = source[i]!
        if (c === "\\" && i + 1 < n) {
          emit(c, false, false)
          emit(source[i + 1]!, false, false)
          i += 2
          continue
        }
        if (c === "[") inClass = true
        else if (c === "]") inClass = false
        else if (c === "/" && !inClass) break
        emit(c, false, false)
        i++
      }
      if (i < n && source[i] === "/") {
        emit("/", false, false)
        i++
      }
      while (i < n && /[a-z]/i.test(source[i]!)) {
        emit(source[i]!, false, false)
        i++
      }
      lastSignificant = ")" // a regex literal ends an expression
      continue
    }
    // identifiers / keywords
    if (/[A-Za-z_$]/.test(ch)) {
      let j = i
      while (j < n && /[A-Za-z0-9_$]/.test(source[j]!)) j++
      const word = source.slice(i, j)
      for (let k = i; k < j; k++) emit(source[k]!, true, true)
      // `x.return / 2` is a property access, not a keyword; good enough for lint purposes
      lastSignificant = word
      i = j
      continue
    }
    emit(ch, true, true)
    if (!/\s/.test(ch)) lastSignificant = ch
    i++
  }
  return { code: code.join(""), bare: bare.join("") }
}

const lineStarts = (text: string): Array<number> => {
  const starts = [0]
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1)
  return starts
}

const lineOf = (starts: ReadonlyArray<number>, offset: number): number => {
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid]! <= offset) lo = mid
    else hi = mid - 1
  }
  return lo + 1
}

// `import ... from "x"` / `export ... from "x"`; the clause is structurally constrained
// (default name, `{ ... }`, `* as ns`) so a match can never span unrelated statements.
const FROM_RE =
  /(^|[^.\w$])(import|export)\b\s*(type\s+(?!from\b))?((?:[\w$]+\s*,?\s*)?(?:\{[^{}]*\}|\*(?:\s*as\s+[\w$]+)?)?)\s*from\s*(['"])([^'"\n]*)\5/g
// `import "x"` (side effect)
const SIDE_EFFECT_RE = /(^|[^.\w$])import\s*(['"])([^'"\n]*)\2/g
// `import("x")`
const DYNAMIC_RE = /(^|[^.\w$])import\s*\(\s*(['"])([^'"\n]*)\2\s*[,)]/g
// `require("x")` / `import x = require("x")`
const REQUIRE_RE = /(^|[^.\w$])require\s*\(\s*(['"])([^'"\n]*)\2\s*\)/g
const PROCESS_ENV_RE = /(^|[^.\w$])process\s*(\.\s*env\b|\[\s*["'`]env)/g

/**
 * Extracts import specifiers from TypeScript source. Patterns are matched against the copy with
 * comments and string contents blanked (so text inside strings or comments never matches); the
 * specifier itself is then read from the same offsets of the copy that keeps strings.
 */
export const parseImports = (source: string): Array<ImportRef> => {
  const { code, bare } = stripSource(source)
  const starts = lineStarts(bare)
  const refs: Array<ImportRef> = []
  const collect = (
    re: RegExp,
    specGroup: number,
    kindOf: (m: RegExpExecArray) => { typeOnly: boolean; kind: ImportRef["kind"] }
  ): void => {
    const withIndices = new RegExp(re.source, "gd")
    for (const m of bare.matchAll(withIndices)) {
      const span = m.indices?.[specGroup]
      if (span === undefined) continue
      const specifier = code.slice(span[0], span[1]).trim()
      if (specifier === "") continue
      refs.push({ specifier, line: lineOf(starts, m.index + m[1]!.length), ...kindOf(m) })
    }
  }
  collect(FROM_RE, 6, (m) => ({ typeOnly: m[3] !== undefined, kind: "static" }))
  collect(SIDE_EFFECT_RE, 3, () => ({ typeOnly: false, kind: "static" }))
  collect(DYNAMIC_RE, 3, (m) => ({
    // `typeof import("x")` is a type-level reference only
    typeOnly: /\btypeof\s*$/.test(bare.slice(Math.max(0, m.index - 40), m.index + m[1]!.length)),
    kind: "dynamic"
  }))
  collect(REQUIRE_RE, 3, () => ({ typeOnly: false, kind: "require" }))
  return refs.sort((a, b) => a.line - b.line)
}

/** 1-based lines on which `process.env` is used (outside comments and strings). */
export const findProcessEnv = (source: string): Array<number> => {
  const { bare } = stripSource(source)
  const starts = lineStarts(bare)
  const lines: Array<number> = []
  for (const m of bare.matchAll(PROCESS_ENV_RE)) lines.push(lineOf(starts, m.index + m[1]!.length))
  return lines
}

// ---------------------------------------------------------------------------
// Tree checking
// ---------------------------------------------------------------------------

const toPosix = (p: string): string => p.split(path.sep).join("/")

const isSourceFile = (name: string): boolean =>
  SOURCE_EXTS.some((ext) => name.endsWith(ext)) && !name.endsWith(".d.ts")

const listSourceFiles = (dir: string): Array<string> => {
  if (!existsSync(dir)) return []
  const out: Array<string> = []
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue
      const full = path.join(d, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.isFile() && isSourceFile(entry.name)) out.push(full)
    }
  }
  walk(dir)
  return out.sort()
}

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}

/** Resolves a relative specifier to an absolute file path, or undefined. */
export const resolveRelative = (fromFile: string, spec: string): string | undefined => {
  const base = path.resolve(path.dirname(fromFile), spec)
  const candidates = [base]
  const jsExt = /\.(m|c)?jsx?$/.exec(base)
  if (jsExt) {
    const stem = base.slice(0, -jsExt[0].length)
    candidates.push(stem + jsExt[0].replace("js", "ts"))
    candidates.push(stem + ".ts", stem + ".tsx")
  }
  for (const ext of SOURCE_EXTS) candidates.push(base + ext)
  for (const ext of SOURCE_EXTS) candidates.push(path.join(base, "index" + ext))
  return candidates.find(isFile)
}

/** Top-level project folder of an absolute path inside root ("" if outside root). */
const layerOf = (root: string, file: string): string => {
  const rel = path.relative(root, file)
  if (rel.startsWith("..") || path.isAbsolute(rel)) return ""
  return toPosix(rel).split("/")[0] ?? ""
}

interface Edge {
  readonly to: string
  readonly line: number
}

export interface CheckResult {
  readonly files: number
  readonly imports: number
  readonly violations: Array<Violation>
}

/** Checks the tree rooted at `root`, returning files scanned, imports seen and violations. */
export const checkTreeDetailed = (root: string): CheckResult => {
  const absRoot = path.resolve(root)
  const files = SCANNED_DIRS.flatMap((d) => listSourceFiles(path.join(absRoot, d)))
  const fileSet = new Set(files)
  const violations: Array<Violation> = []
  const graph = new Map<string, Array<Edge>>()
  let importCount = 0

  for (const file of files) {
    const rel = toPosix(path.relative(absRoot, file))
    const layer = layerOf(absRoot, file)
    const source = readFileSync(file, "utf8")
    const edges: Array<Edge> = []
    graph.set(file, edges)

    for (const ref of parseImports(source)) {
      importCount++
      const spec = ref.specifier
      const where = { file: rel, line: ref.line }
      if (spec.startsWith(".") || spec.startsWith("/")) {
        const target = spec.startsWith("/") ? resolveRelative(absRoot, spec) : resolveRelative(file, spec)
        if (target === undefined) {
          violations.push({ rule: "unresolved", ...where, message: `cannot resolve relative import "${spec}"` })
          continue
        }
        const targetLayer = layerOf(absRoot, target)
        const forbidden = FORBIDDEN_LAYERS[layer] ?? []
        if (forbidden.includes(targetLayer)) {
          violations.push({
            rule: "layer",
            ...where,
            message: `${layer}/ must not import ${targetLayer}/ ("${spec}" -> ${toPosix(path.relative(absRoot, target))})`
          })
        }
        // Cycles are about module initialisation: `import type` is erased and `import()` is
        // deferred (the usual way to break a cycle), so neither forms a cycle edge.
        if (!ref.typeOnly && ref.kind !== "dynamic" && fileSet.has(target)) {
          edges.push({ to: target, line: ref.line })
        }
      } else if (layer === "domain" && isIoModule(spec)) {
        violations.push({ rule: "io-import", ...where, message: `domain/ must not import I/O module "${spec}"` })
      }
    }

    if (PROCESS_ENV_LAYERS.has(layer)) {
      for (const line of findProcessEnv(source)) {
        violations.push({
          rule: "process-env",
          file: rel,
          line,
          message: `process.env used in ${layer}/ (read configuration in runtime/ via Effect Config)`
        })
      }
    }
  }

  violations.push(...findCycles(absRoot, files, graph))
  violations.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1))
  return { files: files.length, imports: importCount, violations }
}

/** Checks the tree rooted at `root`; returns all violations (empty when clean). */
export const checkTree = (root: string): Array<Violation> => checkTreeDetailed(root).violations

/** Tarjan SCC; reports one concrete cycle path per strongly connected component. */
const findCycles = (
  root: string,
  files: ReadonlyArray<string>,
  graph: ReadonlyMap<string, ReadonlyArray<Edge>>
): Array<Violation> => {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: Array<string> = []
  const sccs: Array<Array<string>> = []
  let counter = 0

  // iterative Tarjan to avoid recursion limits on big trees
  for (const start of files) {
    if (index.has(start)) continue
    const work: Array<{ node: string; edge: number }> = [{ node: start, edge: 0 }]
    index.set(start, counter)
    low.set(start, counter)
    counter++
    stack.push(start)
    onStack.add(start)
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      const edges = graph.get(frame.node) ?? []
      if (frame.edge < edges.length) {
        const to = edges[frame.edge]!.to
        frame.edge++
        if (!index.has(to)) {
          index.set(to, counter)
          low.set(to, counter)
          counter++
          stack.push(to)
          onStack.add(to)
          work.push({ node: to, edge: 0 })
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!))
        }
        continue
      }
      work.pop()
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!))
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const scc: Array<string> = []
        let w: string
        do {
          w = stack.pop()!
          onStack.delete(w)
          scc.push(w)
        } while (w !== frame.node)
        const selfLoop = scc.length === 1 && (graph.get(w) ?? []).some((e) => e.to === w)
        if (scc.length > 1 || selfLoop) sccs.push(scc.sort())
      }
    }
  }

  const rel = (f: string): string => toPosix(path.relative(root, f))
  return sccs.map((scc) => {
    const members = new Set(scc)
    const start = scc[0]!
    // BFS inside the SCC from start back to start: shortest cycle through `start`
    const prev = new Map<string, { from: string; line: number }>()
    const queue: Array<string> = [start]
    let found = false
    while (queue.length > 0 && !found) {
      const node = queue.shift()!
      for (const e of graph.get(node) ?? []) {
        if (!members.has(e.to)) continue
        if (e.to === start) {
          prev.set("<end>", { from: node, line: e.line })
          found = true
          break
        }
        if (!prev.has(e.to)) {
          prev.set(e.to, { from: node, line: e.line })
          queue.push(e.to)
        }
      }
    }
    const pathNodes: Array<string> = [start]
    let cursor = prev.get("<end>")!
    const back: Array<string> = []
    while (cursor.from !== start) {
      back.push(cursor.from)
      cursor = prev.get(cursor.from)!
    }
    pathNodes.push(...back.reverse(), start)
    const firstEdge = (graph.get(start) ?? []).find((e) => e.to === pathNodes[1])!
    const extra = scc.length > pathNodes.length - 1 ? ` (${scc.length} files in this cycle group)` : ""
    return {
      rule: "cycle" as const,
      file: rel(start),
      line: firstEdge.line,
      message: `import cycle: ${pathNodes.map(rel).join(" -> ")}${extra}`
    }
  })
}

export const formatViolation = (v: Violation): string => `${v.file}:${v.line}: [${v.rule}] ${v.message}`

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

const isMain = (): boolean => {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return realpathSync(path.resolve(entry)) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const root = path.resolve(process.argv[2] ?? path.join(here, ".."))
  const result = checkTreeDetailed(root)
  if (result.violations.length > 0) {
    for (const v of result.violations) console.error(formatViolation(v))
    console.error(
      `lint: ${result.violations.length} violation(s) in ${result.files} file(s) (${SCANNED_DIRS.join(", ")})`
    )
    process.exit(1)
  }
  console.log(
    `lint: OK — ${result.files} file(s), ${result.imports} import(s) checked in ${SCANNED_DIRS.join("/, ")}/; no boundary violations, no cycles`
  )
}
