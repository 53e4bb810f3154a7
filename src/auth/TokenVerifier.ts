/**
 * The one token check every door uses (WebSocket `?token=` and `auth`
 * frame, REST `Authorization: Bearer`, typed RPC `authorization`). It holds
 * a list of token kinds, each recognising its own tokens by their shape;
 * runtime/Node.ts gives it one, access tokens (`AccessTokens.ts`, JWTs).
 * Anything else (the removed development tokens' `dev.…` included) is
 * "malformed token".
 */
import { Context, Effect, Layer } from "effect"
import { Unauthorized } from "../../domain/Errors.ts"
import type { SessionId, UserId } from "../../domain/Ids.ts"

/** A verified token: whose it is, its session and when it stops being valid (ms since the epoch). */
export interface TokenClaims {
  readonly userId: UserId
  readonly sessionId: SessionId
  readonly expiresAt: number
}

/** One kind of token: whether a token is of this kind (by shape alone), and its check. */
export interface TokenKind {
  readonly name: string
  readonly recognises: (token: string) => boolean
  readonly verify: (token: string) => Effect.Effect<TokenClaims, Unauthorized>
}

const malformed = () => Effect.fail(new Unauthorized({ message: "malformed token" }))

/** Why a verified token is refused anyway (its session ended, its account is disabled), or undefined. */
export type RevocationCheck = (claims: TokenClaims) => string | undefined

export class TokenVerifier extends Context.Tag("plexichat/TokenVerifier")<TokenVerifier, {
  /** The claims of a token of any configured kind; a token of no kind is `Unauthorized` ("malformed token"). */
  readonly verifyClaims: (token: string) => Effect.Effect<TokenClaims, Unauthorized>
  /** Accepts `Bearer <token>` or a bare token. */
  readonly verifyHeader: (header: string | undefined) => Effect.Effect<TokenClaims, Unauthorized>
}>() {
  /** `revoked` runs after a token verified (an in-memory check: src/auth/Revocations.ts). */
  static readonly make = (kinds: ReadonlyArray<TokenKind>, revoked?: RevocationCheck): TokenVerifier["Type"] => {
    const checked = (claims: TokenClaims): Effect.Effect<TokenClaims, Unauthorized> => {
      const reason = revoked?.(claims)
      return reason === undefined ? Effect.succeed(claims) : Effect.fail(new Unauthorized({ message: reason }))
    }
    const verifyClaims = (token: string): Effect.Effect<TokenClaims, Unauthorized> => {
      if (typeof token !== "string") return malformed()
      const kind = kinds.find((k) => k.recognises(token))
      if (kind === undefined) return malformed()
      return revoked === undefined ? kind.verify(token) : Effect.flatMap(kind.verify(token), checked)
    }
    return {
      verifyClaims,
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
