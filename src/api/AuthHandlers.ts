/**
 * REST handlers of accounts and sessions (`/api/v1/auth/...`), on top of
 * `Accounts`. Every answer under that path, tokens or errors, carries
 * `Cache-Control: no-store` (set in runtime/edge/HttpApp.ts, `guarded`, so
 * that refusals before a handler carry it too). The session operations act on
 * the session the caller's access token names.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
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

export const SessionsLive = HttpApiBuilder.group(PlexiHttpApi, "sessions", (handlers) =>
  Effect.map(Accounts, (accounts) =>
    handlers
      .handle("logout", () => Effect.flatMap(CurrentUser, accounts.logout))
      .handle("list", () => Effect.flatMap(CurrentUser, accounts.sessions))
      .handle("revoke", ({ path }) => Effect.flatMap(CurrentUser, (caller) => accounts.revoke(caller, path.sessionId)))
      .handle("revokeAll", () => Effect.flatMap(CurrentUser, accounts.revokeAll))
      .handle("changePassword", ({ payload }) =>
        Effect.flatMap(CurrentUser, (caller) => accounts.changePassword(caller, payload.currentPassword, payload.newPassword)))
      .handle("setPassword", ({ payload }) => Effect.flatMap(CurrentUser, (caller) => accounts.setPassword(caller, payload)))))
