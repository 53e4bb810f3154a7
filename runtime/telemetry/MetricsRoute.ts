/**
 * `GET /metrics`: every metric of the node in the Prometheus text format
 * (src/observability/PrometheusText.ts). With `PLEXI_METRICS_TOKEN` set it
 * needs `Authorization: Bearer <token>` (compared in constant time) and
 * answers 401 `Unauthorized` otherwise; with `PLEXI_METRICS_ENABLED=false`
 * there is no such route (404). With `PLEXI_METRICS_PORT` it is served on
 * that port only (`MetricsServerLive`), not on the public one.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { createServer } from "node:http"
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

/**
 * The separate metrics port (`PLEXI_METRICS_PORT`): a plain Node HTTP
 * server answering `GET /metrics` (same token rule) and 404 otherwise.
 */
export const MetricsServerLive = Layer.scopedDiscard(Effect.gen(function*() {
  const config = yield* TelemetryConfig
  if (!config.metricsEnabled || Option.isNone(config.metricsPort)) return
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") return void res.writeHead(404).end()
    const token = Option.getOrUndefined(config.metricsToken)
    if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
      return void res.writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer realm=\"metrics\"" })
        .end(JSON.stringify({ _tag: "Unauthorized", message: "GET /metrics needs Authorization: Bearer <PLEXI_METRICS_TOKEN>" }))
    }
    sampleRuntime()
    res.writeHead(200, { "content-type": prometheusContentType, "cache-control": "no-store" }).end(prometheusText())
  })
  const { metricsHost: host, metricsPort: port } = config
  yield* Effect.acquireRelease(
    Effect.async<void, Error>((resume) => {
      server.once("error", (error) => resume(Effect.fail(error)))
      server.listen(port.value, host, () => resume(Effect.void))
    }).pipe(Effect.orDie),
    () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )
  yield* Effect.logInfo(`metrics on http://${host}:${port.value}/metrics`)
}))

/** The route on the public port, when enabled there (no `PLEXI_METRICS_PORT`). */
export const MetricsRouteLive = Layer.unwrapEffect(Effect.map(TelemetryConfig, (config) => {
  if (!config.metricsEnabled || Option.isSome(config.metricsPort)) return Layer.empty
  const handler = Option.match(config.metricsToken, {
    onNone: () => scrape,
    onSome: (token) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        bearerMatches(request.headers["authorization"], token) ? scrape : Effect.succeed(unauthorized))
  })
  return HttpLayerRouter.add("GET", "/metrics", handler)
}))
