/**
 * Handlers of the operations RPCs (domain/OperationsRpcs.ts): the admin
 * CLI's cluster view, listings, account creation, session revocation and
 * feature flags, each for owners and admins only (src/operations/); and the
 * flags' REST group (domain/FlagsHttp.ts).
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import type { FlagName } from "../../domain/FeatureFlags.ts"
import { PlexiHttpApi } from "../../domain/Http.ts"
import type { UserId } from "../../domain/Ids.ts"
import { OperationsRpcs } from "../../domain/OperationsRpcs.ts"
import { FeatureFlags } from "../flags/FeatureFlags.ts"
import { unavailable } from "../operations/AdminGate.ts"
import { Operations } from "../operations/Operations.ts"

/** The flag operations of both doors: the caller's role checked first, store failures `ServiceUnavailable`. */
export const flagOperations = Effect.gen(function*() {
  const ops = yield* Operations
  const flags = yield* FeatureFlags
  const flagStore = unavailable("feature flag store")
  return {
    list: (userId: UserId) =>
      Effect.zipRight(
        ops.requireAdmin(userId, "read feature flags"),
        Effect.map(flagStore(flags.list), (list) => list.map((f) => ({ ...f, effectiveHere: flags.isEnabled(f.name) })))
      ),
    set: (userId: UserId, name: FlagName, enabled: boolean) =>
      Effect.zipRight(ops.requireAdmin(userId, "change feature flags"), flagStore(flags.set(name, enabled, userId)))
  }
})

export const AdminFlagsLive = HttpApiBuilder.group(PlexiHttpApi, "adminFlags", (handlers) =>
  Effect.map(flagOperations, (flags) =>
    handlers
      .handle("list", () => Effect.flatMap(CurrentUser, (caller) => flags.list(caller.userId)))
      .handle("set", ({ path, payload }) => Effect.flatMap(CurrentUser, (caller) => flags.set(caller.userId, path.name, payload.enabled)))))

export const OperationsRpcsLive = OperationsRpcs.toLayer(Effect.gen(function*() {
  const ops = yield* Operations
  const flags = yield* flagOperations
  const caller = Effect.map(CurrentUser, (u) => u.userId)
  return OperationsRpcs.of({
    ClusterStatus: () => Effect.flatMap(caller, ops.clusterStatus),
    ListAccounts: ({ after, limit }) => Effect.flatMap(caller, (userId) => ops.listAccounts(userId, after, limit)),
    CreateAccount: (account) => Effect.flatMap(caller, (userId) => ops.createAccount(userId, account)),
    RevokeUserSessions: ({ userId }) => Effect.flatMap(caller, (actor) => ops.revokeUserSessions(actor, userId)),
    ListChannels: ({ after, limit }) => Effect.flatMap(caller, (userId) => ops.listChannels(userId, after, limit)),
    ListFlags: () => Effect.flatMap(caller, flags.list),
    SetFlag: ({ enabled, name }) => Effect.flatMap(caller, (userId) => flags.set(userId, name, enabled))
  })
}))
