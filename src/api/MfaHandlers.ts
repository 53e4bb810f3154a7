/**
 * REST handlers of the caller's second factors (`/api/v1/auth/totp...`,
 * `/auth/backup-codes`, `/auth/mfa/status`), on top of `Accounts.mfa`. The
 * second sign-in step (`POST /auth/mfa`) needs no token and lives with the
 * other sign-in handlers (AuthHandlers.ts).
 */
import { CurrentUser } from "../../domain/Api.ts"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { PlexiHttpApi } from "../../domain/Http.ts"
import { Accounts } from "../auth/Accounts.ts"

export const MfaLive = HttpApiBuilder.group(PlexiHttpApi, "mfa", (handlers) =>
  Effect.map(Accounts, ({ mfa }) =>
    handlers
      .handle("status", () => Effect.flatMap(CurrentUser, mfa.status))
      .handle("enrolTotp", () => Effect.flatMap(CurrentUser, mfa.enrolTotp))
      .handle("confirmTotp", ({ payload }) => Effect.flatMap(CurrentUser, (caller) => mfa.confirmTotp(caller, payload.code)))
      .handle("disable", ({ payload }) => Effect.flatMap(CurrentUser, (caller) => mfa.disable(caller, payload)))
      .handle("regenerateBackupCodes", ({ payload }) =>
        Effect.flatMap(CurrentUser, (caller) => mfa.regenerateBackupCodes(caller, payload)))))
