/**
 * REST handlers of accounts and sessions (`/api/v1/auth/...`), on top of
 * `Accounts`. Every answer under that path, tokens or errors, carries
 * `Cache-Control: no-store` (set in runtime/edge/HttpApp.ts, `guarded`, so
 * that refusals before a handler carry it too). The session operations need
 * an access token: a TEMPORARY dev token (which anyone may mint for any user
 * id) gets `Unauthorized` there.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import { Unauthorized } from "../../domain/Errors.ts"
import { PlexiHttpApi } from "../../domain/Http.ts"
import { Accounts } from "../auth/Accounts.ts"
import { clientOf } from "./ClientAddress.ts"

export const AuthLive = HttpApiBuilder.group(PlexiHttpApi, "auth", (handlers) =>
  Effect.map(Accounts, (accounts) =>
    handlers
      .handle("register", ({ payload }) =>
        Effect.flatMap(clientOf, (client) => accounts.register(payload, { ...client, deviceName: payload.deviceName })))
      .handle("login", ({ payload }) =>
        Effect.flatMap(clientOf, (client) => accounts.login(payload, { ...client, deviceName: payload.deviceName })))
      .handle("refresh", ({ payload }) => Effect.flatMap(clientOf, (client) => accounts.refresh(payload.refreshToken, client)))
      .handle("completeMfa", ({ payload }) => Effect.flatMap(clientOf, (client) => accounts.mfa.complete(payload, client)))))

/** The caller, when it came with an access token (a signed-in session). */
export const sessionCaller = Effect.flatMap(CurrentUser, (caller) =>
  caller.sessionId === undefined
    ? Effect.fail(new Unauthorized({ message: "this operation needs an access token from POST /api/v1/auth/login" }))
    : Effect.succeed(caller))

export const SessionsLive = HttpApiBuilder.group(PlexiHttpApi, "sessions", (handlers) =>
  Effect.map(Accounts, (accounts) =>
    handlers
      .handle("logout", () => Effect.flatMap(sessionCaller, accounts.logout))
      .handle("list", () => Effect.flatMap(sessionCaller, accounts.sessions))
      .handle("revoke", ({ path }) => Effect.flatMap(sessionCaller, (caller) => accounts.revoke(caller, path.sessionId)))
      .handle("revokeAll", () => Effect.flatMap(sessionCaller, accounts.revokeAll))
      .handle("changePassword", ({ payload }) =>
        Effect.flatMap(sessionCaller, (caller) => accounts.changePassword(caller, payload.currentPassword, payload.newPassword)))))
