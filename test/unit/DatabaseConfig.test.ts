import { Either, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import * as DatabaseConfig from "../../runtime/sql/DatabaseConfig.ts"
import { itRefuses, readConfig } from "../fixtures/ConfigEnv.ts"

describe("DatabaseConfig", () => {
  it("defaults to the embedded store in ./data (a single node)", () => {
    expect(readConfig(DatabaseConfig.config, {})).toEqual(Either.right(DatabaseConfig.defaults))
    expect(DatabaseConfig.defaults).toEqual({ url: Option.none(), dataDir: "./data", pgliteSharedBuffers: "16MB", pgliteOptimizeWasm: false })
    expect(DatabaseConfig.onPostgres(DatabaseConfig.defaults)).toBe(false)
  })

  it("reads DATABASE_URL (redacted) and PLEXI_DATA_DIR; a URL means Postgres", () => {
    const result = readConfig(DatabaseConfig.config, { DATABASE_URL: "postgres://u:pw@db/x", PLEXI_DATA_DIR: "/var/plexi" })
    expect(Either.isRight(result)).toBe(true)
    if (Either.isLeft(result)) return
    const url = Option.getOrThrow(result.right.url)
    expect(Redacted.value(url)).toBe("postgres://u:pw@db/x")
    expect(String(url)).not.toContain("pw")
    expect(result.right.dataDir).toBe("/var/plexi")
    expect(DatabaseConfig.onPostgres(result.right)).toBe(true)
  })

  it("reads the embedded store's tuning: shared_buffers in Postgres units and the WebAssembly tier", () => {
    const result = readConfig(DatabaseConfig.config, { PLEXI_PGLITE_SHARED_BUFFERS: "512kB", PLEXI_PGLITE_OPTIMIZE_WASM: "true" })
    expect(Either.map(result, DatabaseConfig.pgliteTuning)).toEqual(Either.right({ sharedBuffers: "512kB", optimizeWasm: true }))
    expect(DatabaseConfig.defaultTuning).toEqual({ sharedBuffers: "16MB", optimizeWasm: false })
  })

  itRefuses(DatabaseConfig.config, [
    ["DATABASE_URL", ""],
    ["PLEXI_DATA_DIR", ""],
    ["PLEXI_PGLITE_SHARED_BUFFERS", "16"],
    ["PLEXI_PGLITE_SHARED_BUFFERS", "16mb"],
    ["PLEXI_PGLITE_SHARED_BUFFERS", "64kB"],
    ["PLEXI_PGLITE_SHARED_BUFFERS", "0MB"],
    ["PLEXI_PGLITE_OPTIMIZE_WASM", "maybe"]
  ])
})
