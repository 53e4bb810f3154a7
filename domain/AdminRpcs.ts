/**
 * Account administration as typed RPCs (`/rpc`), the same as the REST paths
 * under `/api/v1/admin/users/` (docs/SECURITY.md, "Account administration"
 * and "Roles"): for workspace owners and admins, checked against the stored
 * role on every call. (The audit log's `QueryAudit` is in domain/Api.ts.)
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { RpcAuthentication } from "./Api.ts"
import { Revoked, WorkspaceRole } from "./Auth.ts"
import { WeakPassword } from "./AuthErrors.ts"
import { RoleChanged } from "./AdminRoles.ts"
import { AccountNotFound, AccountStatus, MfaReset, ResetPasswordRequest } from "./AdminUsers.ts"
import { Forbidden, ServiceUnavailable } from "./Errors.ts"
import { UserId } from "./Ids.ts"

const AdminFailure = Schema.Union(Forbidden, AccountNotFound, ServiceUnavailable)
const Target = { userId: UserId }

/** Disables the account: no sign-in or refresh, and its sessions end on every node within a second. */
export const DisableAccount = Rpc.make("DisableAccount", { payload: Target, success: AccountStatus, error: AdminFailure })

/** Enables a disabled account. */
export const EnableAccount = Rpc.make("EnableAccount", { payload: Target, success: AccountStatus, error: AdminFailure })

/** Sets another account's password (the rules apply) and ends every session of it. */
export const ResetPassword = Rpc.make("ResetPassword", {
  payload: Schema.extend(Schema.Struct(Target), ResetPasswordRequest),
  success: Revoked,
  error: Schema.Union(AdminFailure, WeakPassword)
})

/**
 * Removes every second factor of another account (TOTP, backup codes,
 * WebAuthn keys) and ends every session of it (REST
 * `POST /api/v1/admin/users/:userId/mfa/reset`). `Forbidden` for anyone
 * below admin, for an admin on an owner's account, and on one's own.
 */
export const ResetMfa = Rpc.make("ResetMfa", { payload: Target, success: MfaReset, error: AdminFailure })

/** Changes an account's workspace role (nobody raises their own; only owners make owners; the last owner stays). */
export const SetWorkspaceRole = Rpc.make("SetWorkspaceRole", {
  payload: { userId: UserId, role: WorkspaceRole },
  success: RoleChanged,
  error: AdminFailure
})

export class AdminRpcs extends RpcGroup.make(DisableAccount, EnableAccount, ResetPassword, ResetMfa, SetWorkspaceRole).middleware(
  RpcAuthentication
) {}
