/**
 * `GET /metrics`: every metric of the node in the Prometheus text format
 * (src/observability/PrometheusText.ts). With `PLEXI_METRICS_TOKEN` set it
 * needs `Authorization: Bearer <token>` (compared in constant time) and
 * answers 401 `Unauthorized` otherwise; with `PLEXI_METRICS_ENABLED=false`
 * there is no such route (404).
 */
import { createHash, timingSafeEqual } from "node:crypto"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Layer, Option, Redacted } from "effect"
import { prometheusContentType, prometheusText } from "../../src/observability/PrometheusText.ts"
import { sampleRuntime } from "./RuntimeSampler.ts"
import { TelemetryConfig } from "./TelemetryConfig.ts"

const digest = (s: string) => createHash("sha256").update(s).digest()

/** Whether `header` is `Bearer <token>`; digests first, so the comparison's time does not depend on the token. */
export const bearerMatches = (header: string | undefined, token: Redacted.Redacted<string>) => {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m !== null && timingSafeEqual(digest(m[1]!), digest(Redacted.value(token)))
}

const unauthorized = HttpServerResponse.unsafeJson(
  { _tag: "Unauthorized", message: "GET /metrics needs Authorization: Bearer <PLEXI_METRICS_TOKEN>" },
  { status: 401, headers: { "www-authenticate": "Bearer realm=\"metrics\"", "cache-control": "no-store" } }
)

const scrape = Effect.sync(() => {
  sampleRuntime()
  return HttpServerResponse.text(prometheusText(), { contentType: prometheusContentType, headers: { "cache-control": "no-store" } })
})

/** The route, when enabled. */
export const MetricsRouteLive = Layer.unwrapEffect(Effect.map(TelemetryConfig, (config) => {
  if (!config.metricsEnabled) return Layer.empty
  const handler = Option.match(config.metricsToken, {
    onNone: () => scrape,
    onSome: (token) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        bearerMatches(request.headers["authorization"], token) ? scrape : Effect.succeed(unauthorized))
  })
  return HttpLayerRouter.add("GET", "/metrics", handler)
}))
