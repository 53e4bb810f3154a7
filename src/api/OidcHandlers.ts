/**
 * REST handlers of OpenID Connect sign-in and linking
 * (`/api/v1/auth/oidc/...`), on top of `Oidc`.
 */
import { CurrentUser } from "../../domain/Api.ts"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { PlexiHttpApi } from "../../domain/Http.ts"
import { Oidc } from "../auth/oidc/Oidc.ts"
import { clientOf } from "./ClientAddress.ts"

export const OidcLive = HttpApiBuilder.group(PlexiHttpApi, "oidc", (handlers) =>
  Effect.map(Oidc, (oidc) =>
    handlers
      .handle("providers", () => Effect.succeed(oidc.list))
      .handle("start", ({ path }) => Effect.flatMap(clientOf, (client) => oidc.start(path.provider, client.ip)))
      .handle("callback", ({ path, urlParams }) =>
        Effect.flatMap(clientOf, (client) => oidc.complete(path.provider, urlParams, client)))))

export const OidcAccountLive = HttpApiBuilder.group(PlexiHttpApi, "oidcAccount", (handlers) =>
  Effect.map(Oidc, (oidc) =>
    handlers
      .handle("link", ({ path }) => Effect.flatMap(CurrentUser, (caller) => oidc.startLink(path.provider, caller.userId)))
      .handle("completeLink", ({ path, payload }) =>
        Effect.flatMap(CurrentUser, (caller) => oidc.completeLink(caller.userId, path.provider, payload)))
      .handle("identities", () => Effect.flatMap(CurrentUser, (caller) => oidc.identities(caller.userId)))
      .handle("unlink", ({ path }) => Effect.flatMap(CurrentUser, (caller) => oidc.unlink(caller.userId, path.provider)))))
