/**
 * Access tokens: short-lived JWTs (HS256) signed with the active key of
 * `PLEXI_AUTH_SIGNING_KEYS` and naming it in the header's `kid`. Every node
 * verifies them with the keys it was given, without a database round trip;
 * a token whose `kid` is not (or no longer) configured, a bad signature, a
 * wrong issuer, audience or type, and an expired token are all
 * `Unauthorized`. Claims: `sub` (the user), `sid` (the session), `iat`,
 * `exp`. Time comes from `Clock`, so tests move it with `TestClock`.
 */
import { errors, jwtVerify, SignJWT } from "jose"
import { Clock, Context, Effect, Layer, Redacted, Schema } from "effect"
import { Unauthorized } from "../../domain/Errors.ts"
import { SessionId, UserId } from "../../domain/Ids.ts"
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

const reasonOf = (error: unknown): string => {
  if (error instanceof errors.JWTExpired) return "token expired"
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad token signature"
  if (error instanceof errors.JWTClaimValidationFailed) return "token claims refused"
  return "malformed token"
}

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

  const verify = (token: string): Effect.Effect<TokenClaims, Unauthorized> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH || !looksLikeJwt(token)) {
        return Effect.fail(unauthorized("malformed token"))
      }
      return Effect.tryPromise({
        try: () =>
          jwtVerify(token, (header) => {
            const secret = header.kid === undefined ? undefined : byKid.get(header.kid)
            if (secret === undefined) throw new errors.JWSSignatureVerificationFailed()
            return secret
          }, {
            algorithms: ["HS256"],
            issuer: ISSUER,
            audience: AUDIENCE,
            typ: TOKEN_TYPE,
            requiredClaims: ["exp", "iat", "sub", "sid"],
            currentDate: new Date(now)
          }),
        catch: (error) => unauthorized(reasonOf(error))
      }).pipe(Effect.flatMap(({ payload }) => {
        const { exp, sid, sub } = payload
        if (!isUserId(sub) || !isSessionId(sid) || typeof exp !== "number") return Effect.fail(unauthorized("malformed token"))
        // jose compares whole seconds; a token is valid strictly before its expiry.
        if (exp * 1000 <= now) return Effect.fail(unauthorized("token expired"))
        return Effect.succeed({ userId: sub, sessionId: sid, expiresAt: exp * 1000 })
      }))
    })

  return { issue, verify } as const
}

export class AccessTokens extends Context.Tag("plexichat/AccessTokens")<AccessTokens, ReturnType<typeof makeAccessTokens>>() {
  static readonly layer = (options: AccessTokenOptions) => Layer.sync(AccessTokens, () => makeAccessTokens(options))

  /** Access tokens as a kind of `TokenVerifier` (recognised by their JWT shape). */
  static readonly kind = (tokens: AccessTokens["Type"]): TokenKind => ({
    name: "access",
    recognises: looksLikeJwt,
    verify: tokens.verify
  })
}
