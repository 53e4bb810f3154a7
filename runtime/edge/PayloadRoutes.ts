/**
 * Which REST operations take a JSON body, read from the `HttpApi` itself
 * (`HttpApi.reflect`), so that the request guard can refuse an empty body on
 * them with a typed 400. `HttpApiBuilder` decodes such a body with
 * `Effect.orDie(request.json)`: an empty body would be a defect (500).
 */
import * as HttpApi from "@effect/platform/HttpApi"
import { Option } from "effect"
import { PlexiHttpApi } from "../../domain/Http.ts"

interface PayloadRoute {
  readonly method: string
  /** The path's segments; `undefined` stands for a parameter (`:name`), which matches any non-empty segment. */
  readonly segments: ReadonlyArray<string | undefined>
}

const segmentsOf = (path: string) => path.replace(/\/+$/, "").split("/")

const routes: Array<PayloadRoute> = []
HttpApi.reflect(PlexiHttpApi, {
  onGroup: () => {},
  onEndpoint: ({ endpoint }) => {
    if (Option.isNone(endpoint.payloadSchema) || endpoint.method === "GET" || endpoint.method === "HEAD") return
    routes.push({
      method: endpoint.method,
      segments: segmentsOf(endpoint.path).map((s) => (s.startsWith(":") ? undefined : s))
    })
  }
})

/** Whether `method path` (a raw, still percent-encoded path without its query) names an operation that takes a body. */
export const takesPayload = (method: string, path: string): boolean => {
  const segments = segmentsOf(path)
  return routes.some((route) =>
    route.method === method &&
    route.segments.length === segments.length &&
    route.segments.every((s, i) => (s === undefined ? segments[i]!.length > 0 : s === segments[i]))
  )
}
