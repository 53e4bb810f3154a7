/** The release a node records (runtime/Release.ts) names package.json's version. */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { PACKAGE_VERSION } from "../../runtime/Release.ts"

describe("Release", () => {
  it("PACKAGE_VERSION is package.json's version", () => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../package.json"), "utf8"))
    expect(PACKAGE_VERSION).toBe(pkg.version)
  })
})
