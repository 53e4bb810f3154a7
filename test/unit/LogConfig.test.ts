import { Either, LogLevel } from "effect"
import { describe, expect, it } from "vitest"
import * as LogConfig from "../../runtime/LogConfig.ts"
import { configError, readConfig } from "../fixtures/ConfigEnv.ts"

describe("LogConfig", () => {
  it("defaults to Info, pretty", () => {
    expect(readConfig(LogConfig.config, {})).toEqual(Either.right({ level: LogLevel.Info, format: "pretty" }))
  })

  it.each([["debug", LogLevel.Debug], ["WARN", LogLevel.Warning], ["Off", LogLevel.None], ["all", LogLevel.All]])(
    "reads PLEXI_LOG_LEVEL=%s in any case",
    (value, level) => {
      expect(readConfig(LogConfig.config, { PLEXI_LOG_LEVEL: value })).toEqual(Either.right({ level, format: "pretty" }))
    }
  )

  it.each(["loud", "Warning", "None", ""])("refuses PLEXI_LOG_LEVEL=%j with an error naming the variable", (value) => {
    expect(configError(LogConfig.config, { PLEXI_LOG_LEVEL: value })).toContain("PLEXI_LOG_LEVEL")
  })

  it("reads PLEXI_LOG_FORMAT=json", () => {
    expect(readConfig(LogConfig.config, { PLEXI_LOG_FORMAT: "json" })).toEqual(Either.right({ level: LogLevel.Info, format: "json" }))
  })

  it.each(["JSON", "text", ""])("refuses PLEXI_LOG_FORMAT=%j with an error naming the variable", (value) => {
    expect(configError(LogConfig.config, { PLEXI_LOG_FORMAT: value })).toContain("PLEXI_LOG_FORMAT")
  })
})
