/**
 * The one token check every door uses (WebSocket `?token=` and `auth`
 * frame, REST `Authorization: Bearer`, typed RPC `authorization`). It holds
 * a list of token kinds, each recognising its own tokens by their shape;
 * runtime/Node.ts gives it one, access tokens (`AccessTokens.ts`, JWTs).
 * Anything else (the removed development tokens' `dev.…` included) is
 * "malformed token".
 */
import { Clock, Context, Effect, Either, Layer } from "effect"
import { Unauthorized } from "../../domain/Errors.ts"
import type { SessionId, UserId } from "../../domain/Ids.ts"

/** A verified token: whose it is, its session and when it stops being valid (ms since the epoch). */
export interface TokenClaims {
  readonly userId: UserId
  readonly sessionId: SessionId
  readonly expiresAt: number
}

/**
 * One kind of token: whether a token is of this kind (by shape alone), and
 * its check at `now` (ms). The check is synchronous: the WebSocket upgrade
 * runs it inside uWS's upgrade handler (Hs256Check.ts says why).
 */
export interface TokenKind {
  readonly name: string
  readonly recognises: (token: string) => boolean
  readonly verifyNow: (token: string, now: number) => Either.Either<TokenClaims, Unauthorized>
}

const malformedToken = () => new Unauthorized({ message: "malformed token" })

/** Why a verified token is refused anyway (its session ended, its account is disabled), or undefined. */
export type RevocationCheck = (claims: TokenClaims) => string | undefined

export class TokenVerifier extends Context.Tag("plexichat/TokenVerifier")<TokenVerifier, {
  /** The claims of a token of any configured kind; a token of no kind is `Unauthorized` ("malformed token"). */
  readonly verifyClaims: (token: string) => Effect.Effect<TokenClaims, Unauthorized>
  /** Accepts `Bearer <token>` or a bare token. */
  readonly verifyHeader: (header: string | undefined) => Effect.Effect<TokenClaims, Unauthorized>
  /** `verifyClaims` at `now` (ms since the epoch), synchronously (the WebSocket upgrade's check). */
  readonly verifyClaimsNow: (token: string, now: number) => Either.Either<TokenClaims, Unauthorized>
}>() {
  /** `revoked` runs after a token verified (an in-memory check: src/auth/Revocations.ts). */
  static readonly make = (kinds: ReadonlyArray<TokenKind>, revoked?: RevocationCheck): TokenVerifier["Type"] => {
    const verifyClaimsNow = (token: string, now: number): Either.Either<TokenClaims, Unauthorized> => {
      const kind = typeof token === "string" ? kinds.find((k) => k.recognises(token)) : undefined
      if (kind === undefined) return Either.left(malformedToken())
      const verified = kind.verifyNow(token, now)
      if (Either.isLeft(verified) || revoked === undefined) return verified
      const reason = revoked(verified.right)
      return reason === undefined ? verified : Either.left(new Unauthorized({ message: reason }))
    }
    const verifyClaims = (token: string): Effect.Effect<TokenClaims, Unauthorized> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => verifyClaimsNow(token, now))
    return {
      verifyClaims,
      verifyClaimsNow,
      verifyHeader: (header) => {
        if (typeof header !== "string" || header.length === 0) return Effect.fail(new Unauthorized({ message: "missing token" }))
        return verifyClaims(header.startsWith("Bearer ") ? header.slice(7) : header)
      }
    }
  }

  static readonly layer = (kinds: ReadonlyArray<TokenKind>, revoked?: RevocationCheck) =>
    Layer.succeed(TokenVerifier, TokenVerifier.make(kinds, revoked))
}

/** The `CurrentUser` of a request authenticated with `claims`. */
export const currentUserOf = (claims: TokenClaims): { readonly userId: UserId; readonly sessionId: SessionId } => ({
  userId: claims.userId,
  sessionId: claims.sessionId
})
