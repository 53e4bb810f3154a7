/**
 * Identities linked to a signed-in account: a link flow is started by the
 * account (`OidcFlows.start` with its user id) and completed only with its
 * access token (so another person's browser finishing the provider's pages
 * cannot attach an identity to an account: account-linking CSRF); the list;
 * and unlinking, refused for the account's only way to sign in.
 */
import { Clock, Effect, Option } from "effect"
import { Forbidden } from "../../../domain/Errors.ts"
import type { UserId } from "../../../domain/Ids.ts"
import { type OidcCallbackParams, type OidcIdentity, OidcIdentityTaken } from "../../../domain/Oidc.ts"
import { NO_PASSWORD } from "../PasswordHasher.ts"
import type { OidcDeps, OidcFlows } from "./OidcFlows.ts"
import { identityOf } from "./OidcSignIn.ts"

export const makeLinks = (deps: OidcDeps, flows: OidcFlows) => {
  const { kit, rows } = deps

  /** The callback of a link flow, completed by the account that started it (its access token). */
  const completeLink = (userId: UserId, providerId: string, params: OidcCallbackParams) =>
    Effect.gen(function*() {
      const { claims, provider } = yield* flows.verified(providerId, params, Option.some(userId))
      const now = yield* Clock.currentTimeMillis
      const identity = identityOf(provider.id, claims, userId, now)
      const linking = yield* kit.stored(rows.linkIdentity(identity))
      switch (linking._tag) {
        case "OtherAccount":
          return yield* new OidcIdentityTaken({ message: "this identity is linked to another account" })
        case "OtherIdentity":
          return yield* new OidcIdentityTaken({ message: `this account is linked to another identity of ${provider.id}; unlink it first` })
        case "Linked": {
          yield* Effect.logInfo("OIDC identity linked", { userId, provider: provider.id })
          const linked: OidcIdentity = {
            provider: provider.id,
            subject: claims.subject,
            email: Option.getOrNull(identity.email),
            linkedAt: now
          }
          return { _tag: "OidcLinked" as const, identity: linked }
        }
      }
    })

  const identities = (userId: UserId) => kit.stored(rows.listIdentities(userId))

  const unlink = (userId: UserId, providerId: string) =>
    Effect.gen(function*() {
      const outcome = yield* kit.stored(rows.unlinkIdentity(userId, providerId, NO_PASSWORD))
      if (outcome._tag === "LastWayIn") {
        return yield* new Forbidden({ message: "this identity is the account's only way to sign in; it cannot be unlinked" })
      }
      return { unlinked: outcome.count }
    })

  return { completeLink, identities, unlink } as const
}
