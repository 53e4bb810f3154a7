/**
 * REST handlers of accounts and sessions (`/api/v1/auth/...`), on top of
 * `Accounts`. Every answer of these endpoints, tokens or errors, carries
 * `Cache-Control: no-store`: they hold credentials or device records. The
 * session operations need an access token: a TEMPORARY dev token (which
 * anyone may mint for any user id) gets `Unauthorized` there.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import { Unauthorized } from "../../domain/Errors.ts"
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

/** The caller, when it came with an access token (a signed-in session). */
const sessionCaller = Effect.flatMap(CurrentUser, (caller) =>
  caller.sessionId === undefined
    ? Effect.fail(new Unauthorized({ message: "this operation needs an access token from POST /api/v1/auth/login" }))
    : Effect.succeed(caller))

export const SessionsLive = HttpApiBuilder.group(PlexiHttpApi, "sessions", (handlers) =>
  Effect.map(Accounts, (accounts) =>
    handlers
      .handle("logout", () => private_(Effect.flatMap(sessionCaller, accounts.logout)))
      .handle("list", () => private_(Effect.flatMap(sessionCaller, accounts.sessions)))
      .handle("revoke", ({ path }) => private_(Effect.flatMap(sessionCaller, (caller) => accounts.revoke(caller, path.sessionId))))
      .handle("revokeAll", () => private_(Effect.flatMap(sessionCaller, accounts.revokeAll)))
      .handle("changePassword", ({ payload }) =>
        private_(Effect.flatMap(sessionCaller, (caller) => accounts.changePassword(caller, payload.currentPassword, payload.newPassword))))))
