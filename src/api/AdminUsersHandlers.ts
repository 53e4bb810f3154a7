/**
 * REST handlers of account administration (`/api/v1/admin/users/...`), on
 * top of `Accounts`. They need an access token (a signed-in session); the
 * caller's role is read from the store by each operation, never taken from
 * the token.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import { PlexiHttpApi } from "../../domain/Http.ts"
import { Accounts } from "../auth/Accounts.ts"

export const AdminUsersLive = HttpApiBuilder.group(PlexiHttpApi, "adminUsers", (handlers) =>
  Effect.map(Accounts, (accounts) =>
    handlers
      .handle("disable", ({ path }) => Effect.flatMap(CurrentUser, (caller) => accounts.disable(caller, path.userId)))
      .handle("enable", ({ path }) => Effect.flatMap(CurrentUser, (caller) => accounts.enable(caller, path.userId)))
      .handle("resetPassword", ({ path, payload }) =>
        Effect.flatMap(CurrentUser, (caller) => accounts.resetPassword(caller, path.userId, payload.newPassword)))
      .handle("resetMfa", ({ path }) => Effect.flatMap(CurrentUser, (caller) => accounts.resetMfa(caller, path.userId)))))
