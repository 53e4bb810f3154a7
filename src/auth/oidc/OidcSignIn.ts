/**
 * OpenID Connect sign-in on top of the account kit: `complete` takes the
 * flow once, validates the provider's answer (OidcFlows.ts) and signs in
 * the account the identity belongs to, else the account with the same
 * verified email (`PLEXI_OIDC_LINK_BY_EMAIL`), else a new account without a
 * password (under the registration rules). Nothing is written before the
 * provider's answer passed its checks, except the flow, which is spent
 * either way.
 */
import { randomInt } from "node:crypto"
import { Clock, Effect, Option } from "effect"
import type { TokenResponse } from "../../../domain/Auth.ts"
import { RegistrationClosed } from "../../../domain/AuthErrors.ts"
import type { UserId } from "../../../domain/Ids.ts"
import { type OidcCallbackParams, OidcIdentityTaken } from "../../../domain/Oidc.ts"
import { type ClientInfo, newUserId } from "../AccountKit.ts"
import { NO_PASSWORD } from "../PasswordHasher.ts"
import type { OidcDeps, OidcFlows } from "./OidcFlows.ts"
import type { OidcClaims } from "./OidcProviders.ts"

const USERNAME_MAX = 32

/**
 * A username from the provider's hint: its allowed characters (letters,
 * digits, `_`, `.`, `-`), starting with a letter or digit, 3 to 32 long;
 * `user` when nothing usable is left. `suffix` makes another attempt unique.
 */
export const usernameFrom = (hint: Option.Option<string>, suffix?: string): string => {
  const cleaned = Option.getOrElse(hint, () => "").normalize("NFKD").replace(/[^A-Za-z0-9_.-]/g, "").replace(/^[^A-Za-z0-9]+/, "")
  const tail = suffix === undefined ? "" : `-${suffix}`
  const base = cleaned.length < 3 ? `${cleaned}user` : cleaned
  return `${base.slice(0, USERNAME_MAX - tail.length)}${tail}`
}

/** The identity row of `claims` for `userId` (the email only when the provider verified it). */
export const identityOf = (providerId: string, claims: OidcClaims, userId: UserId, now: number) => ({
  provider: providerId,
  subject: claims.subject,
  userId,
  email: claims.emailVerified ? claims.email : Option.none<string>(),
  now
})

export const makeSignIn = (deps: OidcDeps, flows: OidcFlows) => {
  const { kit, rows } = deps

  /** A new session of `account`: its token pair. */
  const signedIn = (
    account: { readonly userId: UserId; readonly username: string; readonly role: TokenResponse["role"] },
    client: ClientInfo
  ) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const { refreshToken, session } = kit.newSession(account.userId, client, now)
      yield* kit.stored(kit.store.createSession(session))
      return yield* kit.tokens(account, session.id, refreshToken, session.expiresAt)
    })

  /** A new account for the identity, without a password; a taken username gets a random suffix (5 tries). */
  const registered = (providerId: string, claims: OidcClaims, client: ClientInfo) =>
    Effect.gen(function*() {
      const mode = kit.config.registration
      if (mode === "closed") return yield* new RegistrationClosed({ message: "registration is closed on this installation" })
      let email = claims.emailVerified ? claims.email : Option.none<string>()
      for (let attempt = 0; attempt < 6; attempt++) {
        const username = usernameFrom(claims.nameHint, attempt === 0 ? undefined : String(randomInt(1000, 10000)))
        const now = yield* Clock.currentTimeMillis
        const userId = newUserId()
        const { refreshToken, session } = kit.newSession(userId, client, now)
        const outcome = yield* kit.stored(kit.store.register(
          { userId, username, email, passwordHash: NO_PASSWORD, now },
          session,
          mode === "first",
          rows.insertIdentity(identityOf(providerId, claims, userId, now))
        ))
        switch (outcome._tag) {
          case "NotFirst":
            return yield* new RegistrationClosed({ message: "registration is closed: this installation has its owner" })
          case "UsernameTaken":
            continue
          case "EmailTaken":
            // Linking by email is off: the new account does not claim the address.
            email = Option.none()
            continue
          case "Registered":
            yield* Effect.logInfo("account registered through OIDC", { userId, provider: providerId, role: outcome.role })
            return yield* kit.tokens({ userId, username, role: outcome.role }, session.id, refreshToken, session.expiresAt)
        }
      }
      return yield* new OidcIdentityTaken({ message: "no free username could be made for this identity; sign up with a password and link it" })
    })

  /** The public callback of a sign-in flow: the token pair of the identity's account. */
  const complete = (providerId: string, params: OidcCallbackParams, client: ClientInfo) =>
    Effect.gen(function*() {
      const { claims, provider } = yield* flows.verified(providerId, params, Option.none())
      const owner = yield* kit.stored(rows.findIdentityOwner(provider.id, claims.subject))
      if (Option.isSome(owner)) {
        const account = yield* kit.stored(kit.store.findByUserId(owner.value))
        if (Option.isSome(account)) return yield* signedIn(account.value, client)
      }
      if (deps.linkByEmail && claims.emailVerified && Option.isSome(claims.email)) {
        const account = yield* kit.stored(kit.store.findByEmail(claims.email.value))
        if (Option.isSome(account)) {
          const now = yield* Clock.currentTimeMillis
          const linking = yield* kit.stored(rows.linkIdentity(identityOf(provider.id, claims, account.value.userId, now)))
          if (linking._tag === "Linked") {
            yield* Effect.logInfo("OIDC identity linked by verified email", { userId: account.value.userId, provider: provider.id })
            return yield* signedIn(account.value, client)
          }
        }
      }
      return yield* registered(provider.id, claims, client)
    })

  return { complete } as const
}
