/**
 * Handlers of the administration RPCs (domain/AdminRpcs.ts), on the same
 * services as their REST paths (AdminUsersHandlers.ts, AdminHandlers.ts):
 * the caller's standing is read from the store by each operation.
 */
import { Effect } from "effect"
import { AdminRpcs } from "../../domain/AdminRpcs.ts"
import { CurrentUser } from "../../domain/Api.ts"
import { Accounts } from "../auth/Accounts.ts"
import { RoleChange } from "../roles/RoleChange.ts"

export const AdminRpcsLive = AdminRpcs.toLayer(Effect.gen(function*() {
  const accounts = yield* Accounts
  const roles = yield* RoleChange
  return AdminRpcs.of({
    DisableAccount: ({ userId }) => Effect.flatMap(CurrentUser, (caller) => accounts.disable(caller, userId)),
    EnableAccount: ({ userId }) => Effect.flatMap(CurrentUser, (caller) => accounts.enable(caller, userId)),
    ResetPassword: ({ newPassword, userId }) => Effect.flatMap(CurrentUser, (caller) => accounts.resetPassword(caller, userId, newPassword)),
    ResetMfa: ({ userId }) => Effect.flatMap(CurrentUser, (caller) => accounts.resetMfa(caller, userId)),
    SetWorkspaceRole: ({ role, userId }) => Effect.flatMap(CurrentUser, (caller) => roles.setRole(caller.userId, userId, role))
  })
}))
