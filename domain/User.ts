/**
 * The User aggregate: profile and channel memberships. A user is an account
 * (`u_…`, created by registration, which also writes the profile row; its
 * sign-in data lives in `plexi_accounts`, see domain/Auth.ts).
 */
import { Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { Schema } from "effect"
import { ServiceUnavailable } from "./Errors.ts"
import { ChannelId, UserId } from "./Ids.ts"
import { StorableText } from "./Text.ts"

export const DisplayName = StorableText.pipe(Schema.trimmed(), Schema.minLength(1), Schema.maxLength(80))

export const User = Schema.Struct({
  id: UserId,
  displayName: DisplayName,
  createdAt: Schema.Number,
  channels: Schema.Array(ChannelId)
})
export type User = typeof User.Type

/** Creates the user on first sight, or returns it; updates the display name when one is given. */
export const Upsert = Rpc.make("Upsert", {
  payload: { displayName: Schema.optional(DisplayName) },
  success: User,
  error: ServiceUnavailable
})

/**
 * The profile and the channels the user belongs to. The channels are read
 * from the membership rows on every call (the channels are their source of
 * truth), so a create, join or leave needs no call to the user's entity.
 */
export const Get = Rpc.make("Get", { payload: {}, success: User, error: ServiceUnavailable })

/**
 * The per-user budgets held cluster-wide by the User entity (docs/SECURITY.md,
 * "Rate limits"): posts, channel joins, and `api`, every authenticated REST
 * and typed-RPC request.
 */
export const Budget = Schema.Literal("post", "join", "api")
export type Budget = typeof Budget.Type

/** What a node got from a user's budget: `granted` tokens, and when fewer than asked, how long until the next one. */
export const Lease = Schema.Struct({ granted: Schema.Int, retryAfterMs: Schema.Number })
export type Lease = typeof Lease.Type

/**
 * Takes up to `want` tokens of the user's `budget` for the calling node,
 * which spends them locally (so most posts cost no entity call). The tokens
 * come out of one bucket per user and budget, so a user on many sockets and
 * nodes gets the configured rate in total. Never fails; the state lives in
 * memory (a reactivated entity starts with a full bucket).
 */
export const LeaseTokens = Rpc.make("LeaseTokens", {
  payload: { budget: Budget, want: Schema.Int.pipe(Schema.between(1, 1_000_000)) },
  success: Lease
})

/** The sharded User entity, addressed by `UserId`. */
export const UserEntity = Entity.make("User", [Upsert, Get, LeaseTokens])
