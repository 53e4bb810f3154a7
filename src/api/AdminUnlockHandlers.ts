/**
 * REST handler of `POST /api/v1/admin/users/:userId/unlock` (its own group,
 * `adminUnlock`, in domain/LoginProtection.ts), on top of `AdminUnlock`.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import { PlexiHttpApi } from "../../domain/Http.ts"
import { AdminUnlock } from "../auth/AdminUnlock.ts"

export const AdminUnlockLive = HttpApiBuilder.group(PlexiHttpApi, "adminUnlock", (handlers) =>
  Effect.map(AdminUnlock, (admin) =>
    handlers.handle("unlock", ({ path }) => Effect.flatMap(CurrentUser, (caller) => admin.unlock(caller, path.userId)))))
