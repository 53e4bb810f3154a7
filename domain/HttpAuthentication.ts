/**
 * Bearer-token authentication for REST endpoints (an access token from
 * `/api/v1/auth/login`, or a TEMPORARY development token), with the caller's
 * request rate limit. Its own module so that groups in other files
 * (domain/OidcApi.ts, domain/MfaHttp.ts) can use it while domain/Http.ts adds
 * them to the API.
 */
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import { Schema } from "effect"
import { CurrentUser } from "./Api.ts"
import { RateLimited, Unauthorized } from "./Errors.ts"

export class HttpAuthentication extends HttpApiMiddleware.Tag<HttpAuthentication>()("plexichat/HttpAuthentication", {
  failure: Schema.Union(Unauthorized, RateLimited),
  provides: CurrentUser,
  security: { bearer: HttpApiSecurity.bearer }
}) {}
