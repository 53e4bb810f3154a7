/**
 * CORS for every answer of the node's HTTP app, on the platform's
 * `HttpMiddleware.cors` with the allow-list of `PLEXI_CORS_ALLOWED_ORIGINS`
 * (a predicate, so an origin off the list never gets
 * `Access-Control-Allow-Origin`, and an empty list is closed rather than the
 * platform's `*`). Two things the platform middleware does not do are added
 * around it:
 * - a preflight (`OPTIONS` with an `Origin`) from an origin off the list is
 *   refused with 403 `Forbidden` instead of a 204 without the allow headers,
 *   so the refusal is visible in a log and to a client that is not a browser;
 * - every answer carries `Vary: Origin` (the platform adds it to allowed
 *   origins' answers only), so that no cache hands an answer made for one
 *   origin to another;
 * - `Access-Control-Expose-Headers` goes to allowed origins only (the
 *   platform sends it to every request, listed or not).
 */
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Duration, Effect } from "effect"
import type { HardeningSettings } from "./HardeningConfig.ts"
import { corsAllows } from "./OriginPolicy.ts"

/** What a cross-origin browser page may send: the methods of `/api/v1` and `/rpc`, a bearer token and a JSON body. */
export const allowedMethods = ["GET", "HEAD", "POST", "DELETE"]
export const allowedHeaders = ["authorization", "content-type"]
/** A 429's `Retry-After` is readable by the page. */
export const exposedHeaders = ["retry-after"]

const exposed = { vary: "Origin", "access-control-expose-headers": exposedHeaders.join(",") }

const answerHeaders = (allows: (origin: string) => boolean): HttpApp.PreResponseHandler => (request, response) => {
  const origin = request.headers["origin"]
  return Effect.succeed(
    origin !== undefined && allows(origin)
      ? HttpServerResponse.setHeaders(response, exposed)
      : HttpServerResponse.setHeader(response, "vary", "Origin")
  )
}

/**
 * Wraps the node's app. `credentials` stays off: the API takes bearer tokens,
 * never cookies, so a cross-origin page has no ambient credential to use.
 */
export const corsMiddleware = (settings: HardeningSettings) => {
  const allows = corsAllows(settings)
  const varyOrigin = answerHeaders(allows)
  const platform = HttpMiddleware.cors({
    allowedOrigins: allows,
    allowedMethods,
    allowedHeaders,
    maxAge: Math.max(1, Math.floor(Duration.toSeconds(settings.corsMaxAge))),
    credentials: false
  })
  return <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R | HttpServerRequest.HttpServerRequest> => {
    const inner = platform(app)
    return Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const origin = request.headers["origin"]
      if (request.method === "OPTIONS" && origin !== undefined && !allows(origin)) {
        return Effect.succeed(HttpServerResponse.unsafeJson({
          _tag: "Forbidden",
          message: "cross-origin requests from this origin are not allowed (PLEXI_CORS_ALLOWED_ORIGINS)"
        }, { status: 403, headers: { vary: "Origin" } }))
      }
      return Effect.zipRight(HttpApp.appendPreResponseHandler(varyOrigin), inner)
    })
  }
}
