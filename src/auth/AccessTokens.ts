/**
 * Access tokens: short-lived JWTs (HS256) signed with the active key of
 * `PLEXI_AUTH_SIGNING_KEYS` and naming it in the header's `kid`. Every node
 * verifies them with the keys it was given, without a database round trip;
 * a token whose `kid` is not (or no longer) configured, a bad signature, a
 * wrong issuer, audience or type, and an expired token are all
 * `Unauthorized`. Claims: `sub` (the user), `sid` (the session), `iat`,
 * `exp`. Time comes from `Clock`, so tests move it with `TestClock`.
 */
import { SignJWT } from "jose"
import { Clock, Context, Effect, Either, Layer, Redacted, Schema } from "effect"
import { Unauthorized } from "../../domain/Errors.ts"
import { SessionId, UserId } from "../../domain/Ids.ts"
import { checkHs256 } from "./Hs256Check.ts"
import type { SigningKeys } from "./SigningKeys.ts"
import type { TokenClaims, TokenKind } from "./TokenVerifier.ts"

export const ISSUER = "plexichat"
export const AUDIENCE = "plexichat"
/** RFC 9068's media type for access tokens: a refresh token or an ID token of another system is not one. */
export const TOKEN_TYPE = "at+jwt"

const isUserId = Schema.is(UserId)
const isSessionId = Schema.is(SessionId)

/**
 * A compact JWS: three base64url parts, the first a JSON object (`eyJ` is
 * `{"` in base64url).
 */
export const looksLikeJwt = (token: string) => /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)

/** Bounds the work an unauthenticated caller can make us do. */
const MAX_TOKEN_LENGTH = 4096

export interface AccessTokenOptions {
  readonly keys: Redacted.Redacted<SigningKeys>
  readonly ttlMs: number
}

export interface IssuedAccessToken {
  readonly token: string
  readonly expiresAt: number
}

const unauthorized = (message: string) => new Unauthorized({ message })

export const makeAccessTokens = (options: AccessTokenOptions) => {
  const keys = Redacted.value(options.keys)
  const byKid = new Map(keys.all.map((k) => [k.kid, k.secret]))

  /** Seconds for `iat`/`exp` (JWT NumericDate); `expiresAt` is the same instant in milliseconds. */
  const issue = (userId: UserId, sessionId: SessionId): Effect.Effect<IssuedAccessToken> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const iat = Math.floor(now / 1000)
      const exp = iat + Math.max(1, Math.round(options.ttlMs / 1000))
      return Effect.map(
        Effect.promise(() =>
          new SignJWT({ sid: sessionId })
            .setProtectedHeader({ alg: "HS256", kid: keys.active.kid, typ: TOKEN_TYPE })
            .setSubject(userId)
            .setIssuer(ISSUER)
            .setAudience(AUDIENCE)
            .setIssuedAt(iat)
            .setExpirationTime(exp)
            .sign(keys.active.secret)
        ),
        (token) => ({ token, expiresAt: exp * 1000 })
      )
    })

  const rules = {
    secretOf: (kid: string) => byKid.get(kid),
    issuer: ISSUER,
    audience: AUDIENCE,
    typ: TOKEN_TYPE,
    requiredClaims: ["exp", "iat", "sub", "sid"]
  }

  /** The check itself, synchronous (Hs256Check.ts says why): the claims, or why the token is refused; `now` in ms. */
  const verifyNow = (token: string, now: number): Either.Either<TokenClaims, Unauthorized> => {
    if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH || !looksLikeJwt(token)) {
      return Either.left(unauthorized("malformed token"))
    }
    const payload = checkHs256(token, rules, now)
    if (typeof payload === "string") return Either.left(unauthorized(payload))
    const { exp, sid, sub } = payload
    if (!isUserId(sub) || !isSessionId(sid) || typeof exp !== "number") return Either.left(unauthorized("malformed token"))
    // The check compares whole seconds; a token is valid strictly before its expiry.
    if (exp * 1000 <= now) return Either.left(unauthorized("token expired"))
    return Either.right({ userId: sub, sessionId: sid, expiresAt: exp * 1000 })
  }

  const verify = (token: string): Effect.Effect<TokenClaims, Unauthorized> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => verifyNow(token, now))

  return { issue, verify, verifyNow } as const
}

export class AccessTokens extends Context.Tag("plexichat/AccessTokens")<AccessTokens, ReturnType<typeof makeAccessTokens>>() {
  static readonly layer = (options: AccessTokenOptions) => Layer.sync(AccessTokens, () => makeAccessTokens(options))

  /** Access tokens as a kind of `TokenVerifier` (recognised by their JWT shape). */
  static readonly kind = (tokens: AccessTokens["Type"]): TokenKind => ({
    name: "access",
    recognises: looksLikeJwt,
    verifyNow: tokens.verifyNow
  })
}
