/**
 * The node's one Effect HTTP app: REST (`/api/v1`, with its OpenAPI
 * document) and typed RPC (`/rpc`) on one `HttpLayerRouter`, behind a guard
 * that refuses malformed bodies with typed errors, run as a web handler on
 * the node's own runtime. So the node's logger, log level (`PLEXI_LOG_LEVEL`)
 * and any tracer or metrics layer reach every handler, and a client that goes
 * away interrupts its handler fiber (the bridge aborts the request's signal).
 * Static files, later, are one more route on the same router.
 */
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { RpcSerialization, RpcServer } from "@effect/rpc"
import { Cause, Effect, Either, Layer, Option, Schema, type Scope } from "effect"
import { PlexiRpcs } from "../../domain/Rpcs.ts"
import { InvalidRequest } from "../../domain/Errors.ts"
import { InternalError, MethodNotAllowed, NotFound, UnsupportedMediaType } from "../../domain/HttpErrors.ts"
import { PlexiHttpApi } from "../../domain/Http.ts"
import { HttpGroupsLive } from "../../src/api/HttpHandlers.ts"
import { AdminRpcsLive } from "../../src/api/AdminRpcHandlers.ts"
import { OperationsRpcsLive } from "../../src/api/OperationsRpcHandlers.ts"
import { BackupRpcsLive } from "../../src/api/BackupRpcHandlers.ts"
import { RpcErrorCountLive } from "../../src/api/RpcErrorCountLive.ts"
import { BackupMaintenanceRpcsLive } from "../../src/api/BackupMaintenanceRpcHandlers.ts"
import { RpcProtocolCheckLive } from "../../src/api/RpcProtocolCheckLive.ts"
import { AuthRpcsLive, MfaRpcsLive, OidcAccountRpcsLive, SessionRpcsLive } from "../../src/api/AuthRpcHandlers.ts"
import { PEER_ADDRESS_HEADER } from "../../src/api/ClientAddress.ts"
import { AuditOrigin } from "../../src/audit/AuditLog.ts"
import { ChatRpcsLive, RpcAuthenticationLive } from "../../src/api/RpcHandlers.ts"
import { WebAuthnKeyRpcsLive, WebAuthnRpcsLive } from "../../src/api/WebAuthnRpcHandlers.ts"
import { corsMiddleware } from "./Cors.ts"
import { HardeningConfig } from "./HardeningConfig.ts"
import { HttpConfig, type HttpSettings } from "./HttpConfig.ts"
import { checkRpcBody, clip, nestedDeeperThan, parseJson } from "./RequestChecks.ts"
import type { WebHandler } from "./HttpBridge.ts"
import { takesPayload } from "./PayloadRoutes.ts"
import { errors } from "../../src/observability/ChatMetrics.ts"
import { MetricsRouteLive } from "../telemetry/MetricsRoute.ts"

export const openApiPath = "/api/v1/openapi.json"

/**
 * The router matches a path parameter of any length (find-my-way's default
 * refuses segments over 100 characters, which turned an over-long id into a
 * 404 "no route" instead of the route's 400 `HttpApiDecodeError`). uWS bounds
 * the request line. Paths match exactly: find-my-way's defaults (case-
 * insensitive, trailing and doubled slashes ignored) let `/RPC`, `/rpc/` or
 * `/API/v1/auth/login` reach a route past the guard's checks and its
 * `no-store`, which compare the path as sent; such a path is now a 404.
 */
const routerConfig = {
  maxParamLength: Number.MAX_SAFE_INTEGER,
  caseSensitive: true,
  ignoreTrailingSlash: false,
  ignoreDuplicateSlashes: false
}

/** Every route of the node: the REST API with its OpenAPI document, the RPC group over HTTP, and `GET /metrics`. */
export const RoutesLive = Layer.mergeAll(
  MetricsRouteLive,
  HttpLayerRouter.addHttpApi(PlexiHttpApi, { openapiPath: openApiPath }).pipe(Layer.provide(HttpGroupsLive)),
  RpcServer.layerHttpRouter({ group: PlexiRpcs, path: "/rpc", protocol: "http" }).pipe(
    Layer.provide([
      ChatRpcsLive,
      AuthRpcsLive,
      SessionRpcsLive,
      MfaRpcsLive,
      OidcAccountRpcsLive,
      AdminRpcsLive,
      OperationsRpcsLive,
      BackupRpcsLive,
      BackupMaintenanceRpcsLive,
      WebAuthnRpcsLive,
      WebAuthnKeyRpcsLive,
      RpcAuthenticationLive,
      RpcProtocolCheckLive,
      RpcErrorCountLive,
      RpcSerialization.layerNdjson
    ])
  )
).pipe(Layer.provide(HttpServer.layerContext))

type Refusal = InvalidRequest | MethodNotAllowed | NotFound | UnsupportedMediaType | InternalError

const Refusals = Schema.Union(InvalidRequest, MethodNotAllowed, NotFound, UnsupportedMediaType, InternalError)
const encodeRefusal = Schema.encodeSync(Refusals)
const statusOf = { InvalidRequest: 400, MethodNotAllowed: 405, NotFound: 404, UnsupportedMediaType: 415, InternalError: 500 }

/** The typed JSON error response for a refusal: `{ "_tag", "message" }` with its status. */
export const refusalResponse = (error: Refusal, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(encodeRefusal(error), { status: statusOf[error._tag], headers })

const invalid = (message: string) => Effect.fail(new InvalidRequest({ message }))

const readText = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.catchAll(request.text, () => invalid("the request body could not be read"))

const checkDepth = (text: string, settings: HttpSettings) =>
  nestedDeeperThan(text, settings.maxJsonDepth)
    ? invalid(`the JSON body nests arrays or objects more than ${settings.maxJsonDepth} deep`)
    : Effect.void

/** `POST /rpc` only, with an NDJSON body whose every call is well-formed. */
const checkRpc = (request: HttpServerRequest.HttpServerRequest, settings: HttpSettings) =>
  Effect.gen(function*() {
    if (request.method !== "POST") {
      return yield* new MethodNotAllowed({ message: "typed RPC takes POST /rpc with an NDJSON body (application/ndjson)" })
    }
    const contentType = request.headers["content-type"]
    if (contentType !== undefined && !contentType.toLowerCase().includes("json")) {
      return yield* new UnsupportedMediaType({ message: "typed RPC bodies are NDJSON (application/ndjson)" })
    }
    const text = yield* readText(request)
    yield* checkDepth(text, settings)
    const problem = checkRpcBody(text)
    if (problem !== undefined) return yield* invalid(problem)
  })

/** REST bodies are JSON documents (`application/json`), no deeper than the limit. */
const checkRest = (request: HttpServerRequest.HttpServerRequest, settings: HttpSettings) =>
  Effect.gen(function*() {
    if (request.method === "GET" || request.method === "HEAD") return
    const text = yield* readText(request)
    if (text.length === 0) {
      // The operation's payload decoder would parse "" as JSON and die (a 500): refuse it here.
      return takesPayload(request.method, pathOf(request))
        ? yield* invalid("the request body is empty; this operation takes a JSON body (content-type: application/json)")
        : undefined
    }
    const contentType = request.headers["content-type"]
    if (contentType !== undefined && !contentType.toLowerCase().includes("application/json")) {
      return yield* new UnsupportedMediaType({ message: "REST request bodies are JSON (content-type: application/json)" })
    }
    yield* checkDepth(text, settings)
    if (Either.isLeft(parseJson(text))) return yield* invalid("the request body is not valid JSON")
  })

const pathOf = (request: HttpServerRequest.HttpServerRequest) => {
  const end = request.url.search(/[?#]/)
  return end < 0 ? request.url : request.url.slice(0, end)
}

const notFound = (request: HttpServerRequest.HttpServerRequest) =>
  refusalResponse(new NotFound({
    message: `no route for ${request.method.slice(0, 16)} ${clip(pathOf(request), 100)}; see ${openApiPath}, POST /rpc and /ws`
  }))

/**
 * Turns what escaped the router into a response: a missing route is 404; a
 * defect (a bug, or a body the libraries choke on) is logged and answered 500
 * with a typed body. Interruption (the client went away) passes through.
 */
const answerCause = (request: HttpServerRequest.HttpServerRequest) => (cause: Cause.Cause<unknown>) => {
  if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure) && HttpServerError.isServerError(failure.value) && failure.value._tag === "RouteNotFound") {
    return Effect.succeed(notFound(request))
  }
  const defect = Cause.dieOption(cause)
  if (Option.isSome(defect) && HttpServerResponse.isServerResponse(defect.value)) return Effect.failCause(cause)
  return Effect.as(
    Effect.logError(`HTTP ${request.method} ${pathOf(request).slice(0, 200)} failed`, cause),
    refusalResponse(new InternalError({ message: "the node failed to answer this request; it was logged" }))
  )
}

const decoder = new TextDecoder()

interface Issue {
  readonly _tag: unknown
  readonly path: ReadonlyArray<unknown>
  readonly message: string
}

/**
 * REST's `HttpApiDecodeError` (400) carries a schema tree dump as `message`
 * and echoes refused values whole: keep at most 10 issues, clip each, and
 * make `message` the issues as `path: problem` sentences.
 */
const tidyDecodeError = (response: HttpServerResponse.HttpServerResponse) => {
  if (response.status !== 400 || response.body._tag !== "Uint8Array") return response
  const parsed = parseJson(decoder.decode(response.body.body))
  if (Either.isLeft(parsed)) return response
  const body = parsed.right as { _tag?: unknown; issues?: unknown }
  if (body._tag !== "HttpApiDecodeError" || !Array.isArray(body.issues)) return response
  const issues: Array<Issue> = body.issues.slice(0, 10).map((issue: { _tag?: unknown; path?: unknown; message?: unknown }) => ({
    _tag: issue._tag,
    path: Array.isArray(issue.path) ? issue.path.slice(0, 10) : [],
    message: clip(String(issue.message))
  }))
  const message = issues.map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ")
  return HttpServerResponse.unsafeJson({ _tag: "HttpApiDecodeError", issues, message }, { status: 400 })
}

/**
 * A 429 (`RateLimited`, or a sign-in refused by the login throttle) carries
 * `Retry-After` in whole seconds, rounded up from its `retryAfterMs`.
 */
const withRetryAfter = (response: HttpServerResponse.HttpServerResponse) => {
  if (response.status !== 429 || response.body._tag !== "Uint8Array") return response
  const parsed = parseJson(decoder.decode(response.body.body))
  const ms = Either.isRight(parsed) ? (parsed.right as { retryAfterMs?: unknown }).retryAfterMs : undefined
  return typeof ms === "number" && Number.isFinite(ms) && ms >= 0
    ? HttpServerResponse.setHeader(response, "retry-after", String(Math.max(1, Math.ceil(ms / 1000))))
    : response
}

/** Counts an error answer in `plexichat_errors_total{door="http"}` by its body's `_tag` (or its status). */
const counted = (response: HttpServerResponse.HttpServerResponse) => {
  if (response.status < 400) return response
  const parsed = response.body._tag === "Uint8Array" ? parseJson(decoder.decode(response.body.body)) : undefined
  const tag = parsed !== undefined && Either.isRight(parsed) ? (parsed.right as { _tag?: unknown })._tag : undefined
  errors.http(typeof tag === "string" && tag.length <= 64 ? tag : String(response.status)).update(1)
  return response
}

/**
 * Every answer under `/api/v1/auth/` (tokens, device records, and the
 * refusals too) and of `/rpc` (whose `Register`, `Login` and `Refresh`
 * answer tokens) is `Cache-Control: no-store`: no cache may keep a credential.
 */
const privateIfAuth = (path: string, response: HttpServerResponse.HttpServerResponse) =>
  path.startsWith("/api/v1/auth/") || path === "/rpc"
    ? HttpServerResponse.setHeaders(response, { "cache-control": "no-store", pragma: "no-cache" })
    : response

/** The router behind the guard: a malformed request never reaches a decoder. */
export const guarded = <E, R>(
  router: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  settings: HttpSettings
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const path = pathOf(request)
    const check = path === "/rpc"
      ? checkRpc(request, settings)
      : path.startsWith("/api/")
      ? checkRest(request, settings)
      : Effect.void
    const refused = yield* Effect.flip(check).pipe(Effect.option)
    if (Option.isSome(refused)) {
      const allow: Record<string, string> = refused.value._tag === "MethodNotAllowed" ? { allow: "POST" } : {}
      return counted(privateIfAuth(path, refusalResponse(refused.value, allow)))
    }
    // Audit entries recorded while serving the request carry the peer's address.
    const served = Effect.locally(router, AuditOrigin, { ip: request.headers[PEER_ADDRESS_HEADER] ?? "" })
    return counted(privateIfAuth(path, withRetryAfter(tidyDecodeError(yield* Effect.catchAllCause(served, answerCause(request))))))
  }) as Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest>

/**
 * Builds the routes in the current scope and returns one web handler for the
 * uWS bridge, running every request on the runtime this is run in (the node's).
 */
export const makeWebHandler = Effect.gen(function*() {
  const settings = yield* HttpConfig
  const hardening = yield* HardeningConfig
  const router = yield* HttpLayerRouter.toHttpEffect(RoutesLive).pipe(
    Effect.provideService(HttpLayerRouter.RouterConfig, routerConfig)
  )
  const runtime = yield* Effect.runtime<never>()
  // CORS outside the guard: a preflight is answered before any body or method check (OPTIONS /rpc is 204, not 405).
  const app = corsMiddleware(hardening)(guarded(router, settings)) as HttpApp.Default<never, Scope.Scope>
  const handler = HttpApp.toWebHandlerRuntime(runtime)(app)
  const web: WebHandler = (request) => handler(request)
  return web
})
