/**
 * REST handlers of accounts and sessions (`/api/v1/auth/...`), on top of
 * `Accounts`. Every answer of these endpoints, tokens or errors, carries
 * `Cache-Control: no-store`: they hold credentials or device records.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import { PlexiHttpApi } from "../../domain/Http.ts"
import { Accounts } from "../auth/Accounts.ts"
import { clientOf } from "./ClientAddress.ts"

const noStore = HttpApp.appendPreResponseHandler((_request, response) =>
  Effect.succeed(HttpServerResponse.setHeaders(response, { "cache-control": "no-store", pragma: "no-cache" }))
)

/** Runs `effect` with `Cache-Control: no-store` on whatever it answers. */
const private_ = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.zipRight(noStore, effect)

export const AuthLive = HttpApiBuilder.group(PlexiHttpApi, "auth", (handlers) =>
  Effect.map(Accounts, (accounts) =>
    handlers
      .handle("register", ({ payload }) =>
        private_(Effect.flatMap(clientOf, (client) => accounts.register(payload, { ...client, deviceName: payload.deviceName }))))
      .handle("login", ({ payload }) =>
        private_(Effect.flatMap(clientOf, (client) => accounts.login(payload, { ...client, deviceName: payload.deviceName }))))
      .handle("refresh", ({ payload }) =>
        private_(Effect.flatMap(clientOf, (client) => accounts.refresh(payload.refreshToken, client))))))

export const SessionsLive = HttpApiBuilder.group(PlexiHttpApi, "sessions", (handlers) =>
  Effect.map(Accounts, (accounts) =>
    handlers
      .handle("logout", () => private_(Effect.flatMap(CurrentUser, accounts.logout)))
      .handle("list", () => private_(Effect.flatMap(CurrentUser, accounts.sessions)))
      .handle("revoke", ({ path }) => private_(Effect.flatMap(CurrentUser, (caller) => accounts.revoke(caller, path.sessionId))))
      .handle("revokeAll", () => private_(Effect.flatMap(CurrentUser, accounts.revokeAll)))
      .handle("changePassword", ({ payload }) =>
        private_(Effect.flatMap(CurrentUser, (caller) => accounts.changePassword(caller, payload.currentPassword, payload.newPassword))))))
