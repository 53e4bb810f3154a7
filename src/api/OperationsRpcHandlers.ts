/**
 * Handlers of the operations RPCs (domain/OperationsRpcs.ts): the admin
 * CLI's cluster view, listings, account creation, session revocation and
 * feature flags, each for owners and admins only (src/operations/).
 */
import { Effect } from "effect"
import { CurrentUser } from "../../domain/Api.ts"
import { OperationsRpcs } from "../../domain/OperationsRpcs.ts"
import { FeatureFlags } from "../flags/FeatureFlags.ts"
import { unavailable } from "../operations/AdminGate.ts"
import { Operations } from "../operations/Operations.ts"

export const OperationsRpcsLive = OperationsRpcs.toLayer(Effect.gen(function*() {
  const ops = yield* Operations
  const flags = yield* FeatureFlags
  const caller = Effect.map(CurrentUser, (u) => u.userId)
  const flagStore = unavailable("feature flag store")
  return OperationsRpcs.of({
    ClusterStatus: () => Effect.flatMap(caller, ops.clusterStatus),
    ListAccounts: ({ after, limit }) => Effect.flatMap(caller, (userId) => ops.listAccounts(userId, after, limit)),
    CreateAccount: (account) => Effect.flatMap(caller, (userId) => ops.createAccount(userId, account)),
    RevokeUserSessions: ({ userId }) => Effect.flatMap(caller, (actor) => ops.revokeUserSessions(actor, userId)),
    ListChannels: ({ after, limit }) => Effect.flatMap(caller, (userId) => ops.listChannels(userId, after, limit)),
    ListFlags: () =>
      Effect.flatMap(caller, (userId) =>
        Effect.zipRight(
          ops.requireAdmin(userId, "read feature flags"),
          Effect.map(flagStore(flags.list), (list) => list.map((f) => ({ ...f, effectiveHere: flags.isEnabled(f.name) })))
        )),
    SetFlag: ({ enabled, name }) =>
      Effect.flatMap(caller, (userId) => Effect.zipRight(ops.requireAdmin(userId, "change feature flags"), flagStore(flags.set(name, enabled, userId))))
  })
}))
