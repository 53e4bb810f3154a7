/**
 * Settings of the node's telemetry, in the `ShardingConfig` style: who may
 * read `GET /metrics`, and where (if anywhere) metrics and sampled post
 * traces are exported over OTLP/HTTP. README's configuration table and
 * docs/OPERATIONS.md ("Metrics", "Traces") list the same names.
 */
import { Config, Context, Duration, Option, type Redacted } from "effect"
import { configLayers } from "../../src/config/ConfigLayers.ts"
import { flag, optionalSecret, optionalText, positiveDuration, positiveInteger, text } from "../../src/config/Settings.ts"

export interface TelemetryConfigShape {
  /** Whether `GET /metrics` is served on the public port. */
  readonly metricsEnabled: boolean
  /** When set, `GET /metrics` is served there (`metricsHost`) and not on the public port. */
  readonly metricsPort: Option.Option<number>
  /** The interface the metrics port binds to. */
  readonly metricsHost: string
  /** When set, `GET /metrics` needs `Authorization: Bearer <token>`. */
  readonly metricsToken: Option.Option<Redacted.Redacted<string>>
  /** The OTLP/HTTP collector's base URL (`/v1/metrics` and `/v1/traces` are appended); none: no export. */
  readonly otlpEndpoint: Option.Option<string>
  /** `service.name` of the exported resource. */
  readonly serviceName: string
  /** Share of posts traced and exported, 0 to 1 (0: tracing off). */
  readonly sampleRatio: number
  /** Most posts traced per second on this node, whatever the ratio (a traced post's batch leaves the direct path). */
  readonly maxTracesPerSecond: number
  /** How often metrics are pushed to the collector. */
  readonly metricsInterval: Duration.Duration
}

export class TelemetryConfig extends Context.Tag("plexichat/TelemetryConfig")<TelemetryConfig, TelemetryConfigShape>() {}

export const defaults: TelemetryConfigShape = {
  metricsEnabled: true,
  metricsPort: Option.none(),
  metricsHost: "0.0.0.0",
  metricsToken: Option.none(),
  otlpEndpoint: Option.none(),
  serviceName: "plexichat",
  sampleRatio: 0,
  maxTracesPerSecond: 10,
  metricsInterval: Duration.seconds(10)
}

const isUrl = (s: string) => {
  try {
    const url = new URL(s)
    return url.protocol === "http:" || url.protocol === "https:"
  } catch {
    return false
  }
}

export const config: Config.Config<TelemetryConfigShape> = Config.all({
  metricsEnabled: flag("PLEXI_METRICS_ENABLED", defaults.metricsEnabled, "Serve GET /metrics (Prometheus text) on the public port."),
  metricsPort: Config.option(Config.integer("PLEXI_METRICS_PORT").pipe(
    Config.validate({ message: "PLEXI_METRICS_PORT must be a TCP port from 1 to 65535", validation: (n) => n >= 1 && n <= 65535 })
  )).pipe(
    Config.withDescription("A port of its own for GET /metrics (not served on the public port then); unset: the public port.")
  ),
  metricsHost: text("PLEXI_METRICS_HOST", defaults.metricsHost, "Interface the metrics port (PLEXI_METRICS_PORT) binds to."),
  metricsToken: optionalSecret("PLEXI_METRICS_TOKEN", "Bearer token GET /metrics requires; unset: anyone who reaches the port reads it."),
  otlpEndpoint: optionalText("PLEXI_OTEL_ENDPOINT", "OTLP/HTTP collector base URL, e.g. http://otel-collector:4318; unset: no export.").pipe(
    Config.validate({
      message: "PLEXI_OTEL_ENDPOINT must be an http:// or https:// URL, e.g. http://otel-collector:4318",
      validation: Option.match({ onNone: () => true, onSome: isUrl })
    })
  ),
  serviceName: text("PLEXI_OTEL_SERVICE_NAME", defaults.serviceName, "service.name of exported metrics and traces."),
  sampleRatio: Config.number("PLEXI_OTEL_SAMPLE_RATIO").pipe(
    Config.validate({ message: "PLEXI_OTEL_SAMPLE_RATIO must be a number from 0 to 1", validation: (n) => n >= 0 && n <= 1 }),
    Config.withDefault(defaults.sampleRatio),
    Config.withDescription("Share of posts traced and exported over OTLP, 0 to 1 (0, the default: tracing off).")
  ),
  maxTracesPerSecond: positiveInteger(
    "PLEXI_OTEL_MAX_TRACES_PER_SECOND",
    defaults.maxTracesPerSecond,
    "Most posts traced per second on this node, whatever PLEXI_OTEL_SAMPLE_RATIO says."
  ),
  metricsInterval: positiveDuration("PLEXI_OTEL_METRICS_INTERVAL", defaults.metricsInterval, "How often metrics are pushed over OTLP.")
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(TelemetryConfig, defaults, config)
