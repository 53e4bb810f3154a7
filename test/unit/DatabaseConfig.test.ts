import { Either, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import * as DatabaseConfig from "../../runtime/sql/DatabaseConfig.ts"
import { itRefuses, readConfig } from "../fixtures/ConfigEnv.ts"

describe("DatabaseConfig", () => {
  it("defaults to the embedded store in ./data (a single node)", () => {
    expect(readConfig(DatabaseConfig.config, {})).toEqual(Either.right(DatabaseConfig.defaults))
    expect(DatabaseConfig.defaults).toEqual({ url: Option.none(), dataDir: "./data" })
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

  itRefuses(DatabaseConfig.config, [["DATABASE_URL", ""], ["PLEXI_DATA_DIR", ""]])
})
