/**
 * REST handlers of account administration (`/api/v1/admin/users/...`), on
 * top of `Accounts`. They need an access token (a signed-in session); the
 * caller's role is read from the store by each operation, never taken from
 * the token.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import { Forbidden } from "../../domain/Errors.ts"
import { PlexiHttpApi } from "../../domain/Http.ts"
import { Accounts } from "../auth/Accounts.ts"

/** The caller, when it came with an access token (a development token has no session and may not administer). */
export const adminCaller = Effect.flatMap(CurrentUser, (caller) =>
  caller.sessionId === undefined
    ? Effect.fail(new Forbidden({ message: "only a workspace owner or admin may manage accounts" }))
    : Effect.succeed(caller))

export const AdminUsersLive = HttpApiBuilder.group(PlexiHttpApi, "adminUsers", (handlers) =>
  Effect.map(Accounts, (accounts) =>
    handlers
      .handle("disable", ({ path }) => Effect.flatMap(adminCaller, (caller) => accounts.disable(caller, path.userId)))
      .handle("enable", ({ path }) => Effect.flatMap(adminCaller, (caller) => accounts.enable(caller, path.userId)))
      .handle("resetPassword", ({ path, payload }) =>
        Effect.flatMap(adminCaller, (caller) => accounts.resetPassword(caller, path.userId, payload.newPassword)))))
