import { Duration, Either, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import * as TelemetryConfig from "../../runtime/telemetry/TelemetryConfig.ts"
import { configError, readConfig } from "../fixtures/ConfigEnv.ts"

describe("TelemetryConfig", () => {
  it("defaults to /metrics served without a token and no OTLP export", () => {
    expect(readConfig(TelemetryConfig.config, {})).toEqual(Either.right(TelemetryConfig.defaults))
  })

  it("reads the token as a redacted secret and the endpoint, service name and interval", () => {
    const read = readConfig(TelemetryConfig.config, {
      PLEXI_METRICS_TOKEN: "t0ken",
      PLEXI_OTEL_ENDPOINT: "http://collector:4318",
      PLEXI_OTEL_SERVICE_NAME: "chat",
      PLEXI_OTEL_METRICS_INTERVAL: "5 seconds",
      PLEXI_OTEL_SAMPLE_RATIO: "0.01",
      PLEXI_METRICS_PORT: "9464"
    })
    const config = Either.getOrThrow(read)
    expect(Option.map(config.metricsToken, Redacted.value)).toEqual(Option.some("t0ken"))
    expect(String(Option.getOrThrow(config.metricsToken))).not.toContain("t0ken")
    expect(config.otlpEndpoint).toEqual(Option.some("http://collector:4318"))
    expect(config.serviceName).toBe("chat")
    expect(Duration.toMillis(config.metricsInterval)).toBe(5000)
    expect(config.sampleRatio).toBe(0.01)
    expect(config.metricsPort).toEqual(Option.some(9464))
  })

  it.each([
    ["PLEXI_OTEL_ENDPOINT", "collector:4318"],
    ["PLEXI_METRICS_TOKEN", ""],
    ["PLEXI_METRICS_ENABLED", "maybe"],
    ["PLEXI_OTEL_METRICS_INTERVAL", "0 millis"],
    ["PLEXI_OTEL_SAMPLE_RATIO", "1.5"],
    ["PLEXI_METRICS_PORT", "0"],
    ["PLEXI_METRICS_PORT", "70000"],
    ["PLEXI_METRICS_HOST", ""],
    ["PLEXI_OTEL_SAMPLE_RATIO", "-0.1"]
  ])("refuses %s=%j with an error naming it", (name, value) => {
    expect(configError(TelemetryConfig.config, { [name]: value })).toContain(name)
  })
})
