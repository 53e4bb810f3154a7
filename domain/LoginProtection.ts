/**
 * Login protection's contract: the typed refusal of a locked sign-in, and
 * the admin operation that lifts the locks of an account
 * (`POST /api/v1/admin/users/:userId/unlock`, owner or admin only).
 * docs/SECURITY.md ("Sign-in and registration limits") describes the rules.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Forbidden, ServiceUnavailable } from "./Errors.ts"
import { UserId } from "./Ids.ts"

/**
 * Sign-in refused without checking the password: too many failures of this
 * account from this address (`scope: "account"`), or from this address over
 * any accounts (`scope: "address"`). Retry after `retryAfterMs` (also in
 * `Retry-After`), or ask an admin to unlock the account.
 */
export class SignInLocked extends Schema.TaggedError<SignInLocked>()(
  "SignInLocked",
  { scope: Schema.Literal("account", "address"), retryAfterMs: Schema.Number, message: Schema.String },
  HttpApiSchema.annotations({ status: 429 })
) {}

/** No account has this user id. */
export class AccountNotFound extends Schema.TaggedError<AccountNotFound>()(
  "AccountNotFound",
  { userId: UserId, message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** What an unlock cleared: `cleared` counts the throttle records that held failures, a delay or a lock. */
export const Unlocked = Schema.Struct({ userId: UserId, cleared: Schema.Int })
export type Unlocked = typeof Unlocked.Type

const userId = HttpApiSchema.param("userId", UserId)

/** Login protection for admins; the caller's access token must be an owner's or an admin's. */
export class AdminUnlockApi extends HttpApiGroup.make("adminUnlock")
  .add(
    HttpApiEndpoint.post("unlock")`/admin/users/${userId}/unlock`
      .addSuccess(Unlocked)
      .addError(AccountNotFound)
      .addError(Forbidden)
      .addError(ServiceUnavailable)
      .annotate(
        OpenApi.Description,
        "Clears the account's failed sign-ins, delays and locks, from every address (an address's own lock, " +
          "over all accounts, stays). Owner or admin only: anyone else gets 403 Forbidden."
      )
  )
{}
