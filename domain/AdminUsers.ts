/**
 * Account administration by a workspace owner or admin (`/api/v1/admin/users/...`):
 * disable and enable another account, set its password, and reset its
 * second factors. A member (or
 * anyone below admin) gets `Forbidden` whatever the target, so probing user
 * ids tells a member nothing; an admin naming an unknown account gets
 * `AccountNotFound`. Nobody disables or resets their own account through
 * these, an admin never manages an owner's (MFA included), and the last enabled owner
 * cannot be disabled (docs/SECURITY.md, "Account administration").
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { PasswordField, Revoked } from "./Auth.ts"
import { WeakPassword } from "./AuthErrors.ts"
import { Forbidden, ServiceUnavailable } from "./Errors.ts"
import { UserId } from "./Ids.ts"

/** No account has this user id (answered to owners and admins only). */
export class AccountNotFound extends Schema.TaggedError<AccountNotFound>()(
  "AccountNotFound",
  { userId: UserId },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** The account's state after a disable or enable, and how many of its sessions the operation ended. */
export const AccountStatus = Schema.Struct({ userId: UserId, disabled: Schema.Boolean, revoked: Schema.Int })

export const ResetPasswordRequest = Schema.Struct({ newPassword: PasswordField })

/**
 * What an MFA reset removed, and how many sessions of the account it ended:
 * `totp` whether a TOTP authenticator (pending or on) was removed,
 * `backupCodes` and `webauthnKeys` how many were.
 */
export const MfaReset = Schema.Struct({
  userId: UserId,
  revoked: Schema.Int,
  removed: Schema.Struct({ totp: Schema.Boolean, backupCodes: Schema.Int, webauthnKeys: Schema.Int })
})
export type MfaReset = typeof MfaReset.Type

const userId = HttpApiSchema.param("userId", UserId)

/**
 * Needs an access token of an owner or admin; add the authentication
 * middleware where the group joins the API (domain/Http.ts).
 */
export class AdminUsersApi extends HttpApiGroup.make("adminUsers")
  .add(
    HttpApiEndpoint.post("disable")`/admin/users/${userId}/disable`
      .addSuccess(AccountStatus)
      .annotate(
        OpenApi.Description,
        "Disables the account: it can no longer sign in or refresh, and every session of it ends on every node within a second " +
          "(its WebSockets are closed with 4003). Disabling a disabled account changes nothing."
      )
  )
  .add(
    HttpApiEndpoint.post("enable")`/admin/users/${userId}/enable`
      .addSuccess(AccountStatus)
      .annotate(OpenApi.Description, "Enables a disabled account: it can sign in again (its ended sessions stay ended).")
  )
  .add(
    HttpApiEndpoint.post("resetPassword")`/admin/users/${userId}/password`
      .setPayload(ResetPasswordRequest)
      .addSuccess(Revoked)
      .addError(WeakPassword)
      .annotate(
        OpenApi.Description,
        "Sets another account's password (the password rules apply) and ends every session of it; `revoked` counts them."
      )
  )
  .add(
    HttpApiEndpoint.post("resetMfa")`/admin/users/${userId}/mfa/reset`
      .addSuccess(MfaReset)
      .annotate(
        OpenApi.Description,
        "Removes every second factor of another account (TOTP, pending or on, its backup codes, and its WebAuthn " +
          "security keys) and ends every session of it; the account then signs in with its password alone. Only an " +
          "owner resets an owner's; nobody resets their own here."
      )
  )
  .addError(Forbidden)
  .addError(AccountNotFound)
  .addError(ServiceUnavailable)
  .annotate(OpenApi.Description, "Account administration by a workspace owner or admin.")
{}
