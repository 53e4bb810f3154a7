import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { checkTree, formatViolation, parseImports } from "../../scripts/lint.ts"

const roots: Array<string> = []

const makeTree = (files: Record<string, string>): string => {
  const root = mkdtempSync(path.join(tmpdir(), "plexi-lint-"))
  roots.push(root)
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(root, rel)
    mkdirSync(path.dirname(full), { recursive: true })
    writeFileSync(full, content)
  }
  return root
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

describe("scripts/lint.ts", () => {
  it("reports a boundary violation and an import cycle", () => {
    const root = makeTree({
      "domain/Message.ts": [
        `import { Schema } from "effect"`,
        `import { Db } from "../src/Db.ts"`,
        `export const Message = Schema.String`,
        ``
      ].join("\n"),
      "domain/Pure.ts": `import * as fs from "node:fs"\nexport const read = fs.readFileSync\n`,
      "src/Db.ts": `import { B } from "./B.ts"\nexport const Db = B\n`,
      "src/B.ts": `import { C } from "./C.ts"\nexport const B = C\n`,
      "src/C.ts": `// closes the cycle\nimport { Db } from "./Db.ts"\nexport const C = () => Db\n`,
      "src/Config.ts": `export const port = process.env.PORT\n`,
      "runtime/main.ts": `import { helper } from "../test/helper.ts"\nexport const main = helper\n`,
      "test/helper.ts": `export const helper = 1\n`
    })
    const violations = checkTree(root)
    const lines = violations.map(formatViolation)

    const layer = violations.find((v) => v.rule === "layer" && v.file === "domain/Message.ts")
    expect(layer, lines.join("\n")).toBeDefined()
    expect(layer!.line).toBe(2)
    expect(layer!.message).toContain("src/")

    const cycle = violations.find((v) => v.rule === "cycle")
    expect(cycle, lines.join("\n")).toBeDefined()
    expect(cycle!.message).toContain("src/B.ts -> src/C.ts -> src/Db.ts -> src/B.ts")
    expect(violations.filter((v) => v.rule === "cycle")).toHaveLength(1)

    expect(violations).toContainEqual(expect.objectContaining({ rule: "io-import", file: "domain/Pure.ts", line: 1 }))
    expect(violations).toContainEqual(expect.objectContaining({ rule: "process-env", file: "src/Config.ts", line: 1 }))
    expect(violations).toContainEqual(expect.objectContaining({ rule: "layer", file: "runtime/main.ts", line: 1 }))
  })

  it("reports nothing for a clean tree", () => {
    const root = makeTree({
      "domain/Message.ts": [
        `import { Schema } from "effect"`,
        `import type { Id } from "./Id.ts"`,
        `// import { Db } from "../src/Db.ts"  (commented out: ignored)`,
        `export const text = "import x from '../runtime/x.ts'; process.env.NOPE"`,
        `export const Message = Schema.String`,
        `export type M = Id`,
        ``
      ].join("\n"),
      "domain/Id.ts": `import type { M } from "./Message.ts"\nexport type Id = string | M\n`,
      "src/Service.ts": `import { Message } from "../domain/Message.ts"\nexport const lazy = () => import("./Late.ts")\nexport const S = Message\n`,
      "src/Late.ts": `import { S } from "./Service.ts"\nexport const late = S\n`,
      "runtime/main.ts": `import { S } from "../src/Service.ts"\nimport { createServer } from "node:http"\nexport const port = process.env.PORT\nexport const main = [S, createServer]\n`,
      "examples/demo.ts": `import { main } from "../runtime/main.ts"\nexport const demo = main\n`
    })
    expect(checkTree(root).map(formatViolation)).toEqual([])
  })

  it("reports unresolved relative imports", () => {
    const root = makeTree({ "src/A.ts": `export { x } from "./Missing.ts"\n` })
    expect(checkTree(root)).toEqual([expect.objectContaining({ rule: "unresolved", file: "src/A.ts", line: 1 })])
  })

  it("parses static, re-export, side-effect and dynamic imports but not strings or comments", () => {
    const refs = parseImports(
      [
        `import * as E from "effect/Effect"`,
        `import type { T } from "./t.ts"`,
        `export * from "./all.ts"`,
        `import "./side.ts"`,
        `const s = "import z from './str.ts'"`,
        `/* import y from "./block.ts" */`,
        `const d = () => import("./dyn.ts")`
      ].join("\n")
    )
    expect(refs.map((r) => [r.specifier, r.line, r.typeOnly, r.kind])).toEqual([
      ["effect/Effect", 1, false, "static"],
      ["./t.ts", 2, true, "static"],
      ["./all.ts", 3, false, "static"],
      ["./side.ts", 4, false, "static"],
      ["./dyn.ts", 7, false, "dynamic"]
    ])
  })
})
