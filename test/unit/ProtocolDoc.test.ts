/**
 * docs/PROTOCOL.md against domain/Protocol.ts: every client and server frame
 * type is in the frame reference tables with exactly the schema's fields
 * (`name?` for an optional one), every error code and close code is
 * documented.
 */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { Schema, SchemaAST } from "effect"
import { describe, expect, it } from "vitest"
import { ClientFrame, CloseCode, ErrorCode, ServerFrame } from "../../domain/Protocol.ts"

const doc = readFileSync(resolve(import.meta.dirname, "../../docs/PROTOCOL.md"), "utf8")

/** The rows of the first table after `heading`: `type` → the field list of its second column. */
const table = (heading: string): Map<string, Array<string>> => {
  const start = doc.indexOf(`\n${heading}\n`)
  expect(start, `PROTOCOL.md has a "${heading}" section`).toBeGreaterThan(-1)
  const rows = new Map<string, Array<string>>()
  const lines = doc.slice(start + heading.length + 2).split("\n")
  let inTable = false
  for (const line of lines) {
    if (!line.startsWith("|")) {
      if (inTable) break
      continue
    }
    inTable = true
    const cells = line.split("|").slice(1, -1).map((c) => c.trim())
    const type = /^`([a-z_]+)`$/.exec(cells[0] ?? "")?.[1]
    if (type === undefined || type === "type") continue
    rows.set(type, Array.from((cells[1] ?? "").matchAll(/`([A-Za-z]+\??)`/g), (m) => m[1]!).sort())
  }
  return rows
}

/** The wire fields of a frame schema (encoded side: what is actually sent), `?` marking optional ones. */
const wireFields = (member: Schema.Schema.Any): { type: string; fields: Array<string> } => {
  const props = SchemaAST.getPropertySignatures(Schema.encodedSchema(member).ast)
  const typeProp = props.find((p) => p.name === "type")!
  const type = (typeProp.type as SchemaAST.Literal).literal as string
  const fields = props.filter((p) => p.name !== "type").map((p) => `${String(p.name)}${p.isOptional ? "?" : ""}`).sort()
  return { type, fields }
}

describe("docs/PROTOCOL.md documents the protocol in domain/Protocol.ts", () => {
  it.each([
    ["client", "### Client frame reference", ClientFrame.members],
    ["server", "### Server frame reference", ServerFrame.members]
  ] as const)("lists every %s frame with exactly its schema's fields", (_side, heading, members) => {
    const rows = table(heading)
    const expected = new Map(members.map((m) => {
      const { fields, type } = wireFields(m)
      return [type, fields] as const
    }))
    expect(Array.from(rows.keys()).sort()).toEqual(Array.from(expected.keys()).sort())
    for (const [type, fields] of expected) expect(rows.get(type), type).toEqual(fields)
  })

  it("documents every error code and close code", () => {
    const errors = table("### Error codes")
    expect(Array.from(errors.keys()).sort()).toEqual([...ErrorCode.literals].sort())
    const closeSection = doc.slice(doc.indexOf("\n## Close codes\n"))
    for (const [name, code] of Object.entries(CloseCode)) {
      expect(closeSection, `close code ${code}`).toContain(`| ${code} (\`CloseCode.${name}\`)`)
    }
  })
})
