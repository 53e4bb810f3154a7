/**
 * OTLP/HTTP export of the node's metrics, and of sampled post traces when
 * `PLEXI_OTEL_SAMPLE_RATIO` > 0 (SampledTracer.ts), when `PLEXI_OTEL_ENDPOINT` is set:
 * every metric of Effect's registry (the same ones `GET /metrics` shows) is
 * pushed as JSON to `<endpoint>/v1/metrics` every `PLEXI_OTEL_METRICS_INTERVAL`
 * (@effect/opentelemetry's `OtlpMetrics`, over `fetch`), with
 * `service.name` = `PLEXI_OTEL_SERVICE_NAME` and `service.instance.id` = the
 * node's id. Export failures never stop the node: the exporter retries
 * transient ones, then pauses for 60 s (logged at Debug).
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as OtlpMetrics from "@effect/opentelemetry/OtlpMetrics"
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import { Duration, Effect, Layer, Option } from "effect"
import { EdgeConfig, nodeIdOf } from "../edge/EdgeConfig.ts"
import { TelemetryConfig } from "./TelemetryConfig.ts"
import * as SampledTracer from "./SampledTracer.ts"

/** The export endpoint's path for `signal` (`metrics`, `traces`), under the configured base URL. */
export const signalUrl = (base: string, signal: "metrics" | "traces") => `${base.replace(/\/+$/, "")}/v1/${signal}`

export const OtlpExportLive = Layer.unwrapEffect(Effect.gen(function*() {
  const config = yield* TelemetryConfig
  const nodeId = nodeIdOf(yield* EdgeConfig)
  return Option.match(config.otlpEndpoint, {
    onNone: () => Layer.empty,
    onSome: (endpoint) =>
      Layer.merge(
        OtlpMetrics.layer({
          url: signalUrl(endpoint, "metrics"),
          resource: { serviceName: config.serviceName, attributes: { "service.instance.id": nodeId } },
          exportInterval: config.metricsInterval,
          shutdownTimeout: Duration.seconds(2)
        }),
        config.sampleRatio > 0
          ? SampledTracer.layer({ url: signalUrl(endpoint, "traces"), ratio: config.sampleRatio, maxPerSecond: config.maxTracesPerSecond, serviceName: config.serviceName, nodeId })
          : Layer.empty
      ).pipe(Layer.provide([OtlpSerialization.layerJson, FetchHttpClient.layer]))
  })
}))
