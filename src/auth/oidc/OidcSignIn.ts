/**
 * OpenID Connect sign-in on top of the account kit: `complete` takes the
 * flow once, validates the provider's answer (OidcFlows.ts) and signs in
 * the account the identity belongs to, else the account whose email this
 * and an earlier provider both verified (`PLEXI_OIDC_LINK_BY_EMAIL`; an
 * email typed at registration is never trusted), else a new account without a
 * password (under the registration rules). Nothing is written before the
 * provider's answer passed its checks, except the flow, which is spent
 * either way.
 */
import { randomInt } from "node:crypto"
import { Clock, Effect, Option } from "effect"
import { RegistrationClosed } from "../../../domain/AuthErrors.ts"
import type { UserId } from "../../../domain/Ids.ts"
import { ServiceUnavailable } from "../../../domain/Errors.ts"
import { type OidcCallbackParams, OidcIdentityTaken } from "../../../domain/Oidc.ts"
import { type ClientInfo, newUserId } from "../AccountKit.ts"
import type { StoredAccount } from "../AccountStore.ts"
import { NO_PASSWORD } from "../PasswordHasher.ts"
import type { OidcDeps, OidcFlows } from "./OidcFlows.ts"
import { isUniqueViolation } from "../store/OidcRows.ts"
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

/**
 * A new account for the identity, without a password; a taken username
 * gets a random suffix (five more tries). `IdentityTaken`: the same
 * identity's first sign-in on another request won the race.
 */
const registered = ({ kit, rows }: OidcDeps) => (providerId: string, claims: OidcClaims, client: ClientInfo) =>
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
      ).pipe(Effect.catchIf(isUniqueViolation, () => Effect.succeed({ _tag: "IdentityTaken" } as const))))
      switch (outcome._tag) {
        case "IdentityTaken":
          return outcome
        case "NotFirst":
          return yield* new RegistrationClosed({ message: "registration is closed: this installation has its owner" })
        case "UsernameTaken":
          continue
        case "EmailTaken":
          // Another account has the address (unverified, or linking by email is off): the new one does not claim it.
          email = Option.none()
          continue
        case "Registered": {
          yield* Effect.logInfo("account registered through OIDC", { userId, provider: providerId, role: outcome.role })
          const tokens = yield* kit.tokens({ userId, username, role: outcome.role }, session.id, refreshToken, session.expiresAt)
          return { _tag: "Registered", tokens } as const
        }
      }
    }
    return yield* new OidcIdentityTaken({ message: "no free username could be made for this identity; sign up with a password and link it" })
  })

export const makeSignIn = (deps: OidcDeps, flows: OidcFlows) => {
  const { kit, rows } = deps
  const register = registered(deps)

  /**
   * A new session of an existing `account`: its token pair, or, with MFA on,
   * `MfaRequired` and its challenge, exactly as after a password.
   */
  const signedIn = (account: StoredAccount, client: ClientInfo) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      yield* deps.secondFactor(account, client, now)
      const { refreshToken, session } = kit.newSession(account.userId, client, now)
      yield* kit.stored(kit.store.createSession(session))
      return yield* kit.tokens(account, session.id, refreshToken, session.expiresAt)
    })

  const accountOf = (userId: UserId) => kit.stored(kit.store.findByUserId(userId))

  /** The account the identity is linked to, if any. */
  const ownerOf = (providerId: string, claims: OidcClaims) =>
    Effect.flatMap(kit.stored(rows.findIdentityOwner(providerId, claims.subject)), (owner) =>
      Option.match(owner, { onNone: () => Effect.succeed(Option.none()), onSome: accountOf }))

  /** The account with the provider-verified email that an earlier OIDC sign-in verified too, linked to the identity. */
  const linkedByEmail = (providerId: string, claims: OidcClaims) =>
    Effect.gen(function*() {
      if (!deps.linkByEmail || !claims.emailVerified || Option.isNone(claims.email)) return Option.none()
      const userId = yield* kit.stored(rows.findByVerifiedEmail(claims.email.value))
      if (Option.isNone(userId)) return Option.none()
      const now = yield* Clock.currentTimeMillis
      const linking = yield* kit.stored(rows.linkIdentity(identityOf(providerId, claims, userId.value, now)))
      if (linking._tag !== "Linked") return Option.none()
      yield* Effect.logInfo("OIDC identity linked by verified email", { userId: userId.value, provider: providerId })
      return yield* accountOf(userId.value)
    })

  /** The public callback of a sign-in flow: the token pair of the identity's account. */
  const complete = (providerId: string, params: OidcCallbackParams, client: ClientInfo) =>
    Effect.gen(function*() {
      const { claims, provider } = yield* flows.verified(providerId, params, Option.none())
      const known = yield* ownerOf(provider.id, claims)
      if (Option.isSome(known)) return yield* signedIn(known.value, client)
      const byEmail = yield* linkedByEmail(provider.id, claims)
      if (Option.isSome(byEmail)) return yield* signedIn(byEmail.value, client)
      const created = yield* register(provider.id, claims, client)
      if (created._tag === "Registered") return created.tokens
      const winner = yield* ownerOf(provider.id, claims)
      if (Option.isSome(winner)) return yield* signedIn(winner.value, client)
      return yield* new ServiceUnavailable({ reason: "the account is being created by another sign-in; try again" })
    })

  return { complete } as const
}
