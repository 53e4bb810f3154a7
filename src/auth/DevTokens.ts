/**
 * TEMPORARY development authentication.
 *
 * A development token is `dev.<base64url(JSON {sub, exp})>.<base64url(HMAC-SHA256)>`
 * signed with `PLEXI_DEV_TOKEN_SECRET`. Anyone who can call
 * `POST /api/v1/dev/token` can mint one for any user id, so this is for
 * development only; the identity issue replaces it with real sign-in, MFA and
 * sessions.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { Clock, Context, Effect, Layer, Redacted, Schema } from "effect"
import { Unauthorized } from "../../domain/Errors.ts"
import { UserId } from "../../domain/Ids.ts"
import type { TokenClaims, TokenKind } from "./TokenVerifier.ts"

const isUserId = Schema.is(UserId)

export interface DevTokenOptions {
  readonly secret: Redacted.Redacted<string>
  readonly ttlMs: number
  /** Whether `POST /api/v1/dev/token` may mint tokens (`PLEXI_DEV_AUTH`). Verification works either way. */
  readonly issuing: boolean
}


/** Time comes from `Clock`, so tests move it with `TestClock`. */
export class DevTokens extends Context.Tag("plexichat/DevTokens")<DevTokens, {
  readonly issue: (userId: UserId) => Effect.Effect<{ readonly token: string; readonly expiresAt: number }>
  readonly issuing: boolean
  readonly verify: (token: string) => Effect.Effect<UserId, Unauthorized>
  /** Like `verify`, with the expiry: a WebSocket closes at it unless the client re-authenticates. */
  readonly verifyClaims: (token: string) => Effect.Effect<TokenClaims, Unauthorized>
  /** Accepts `Bearer <token>` or a bare token. */
  readonly verifyHeader: (header: string | undefined) => Effect.Effect<UserId, Unauthorized>
}>() {
  static readonly make = (options: DevTokenOptions): DevTokens["Type"] => {
    const sign = (payload: string) =>
      createHmac("sha256", Redacted.value(options.secret)).update(payload).digest("base64url")

    const verifyClaims = (token: string): Effect.Effect<TokenClaims, Unauthorized> => Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (typeof token !== "string") return Effect.fail(new Unauthorized({ message: "malformed token" }))
      const parts = token.split(".")
      if (parts.length !== 3 || parts[0] !== "dev") return Effect.fail(new Unauthorized({ message: "malformed token" }))
      const expected = Buffer.from(sign(parts[1]!))
      const actual = Buffer.from(parts[2]!)
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
        return Effect.fail(new Unauthorized({ message: "bad token signature" }))
      }
      let claims: { sub?: unknown; exp?: unknown }
      try {
        claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"))
      } catch {
        return Effect.fail(new Unauthorized({ message: "malformed token" }))
      }
      if (typeof claims.exp !== "number" || claims.exp <= now) {
        return Effect.fail(new Unauthorized({ message: "token expired" }))
      }
      if (!isUserId(claims.sub)) {
        return Effect.fail(new Unauthorized({ message: "malformed token" }))
      }
      return Effect.succeed({ userId: claims.sub, expiresAt: claims.exp })
    })
    const verify = (token: string) => Effect.map(verifyClaims(token), (claims) => claims.userId)

    return {
      issuing: options.issuing,
      issue: (userId) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const expiresAt = now + options.ttlMs
          const payload = Buffer.from(JSON.stringify({ sub: userId, exp: expiresAt })).toString("base64url")
          return { token: `dev.${payload}.${sign(payload)}`, expiresAt }
        }),
      verify,
      verifyClaims,
      verifyHeader: (header) => {
        if (typeof header !== "string" || header.length === 0) return Effect.fail(new Unauthorized({ message: "missing token" }))
        return verify(header.startsWith("Bearer ") ? header.slice(7) : header)
      }
    }
  }

  static readonly layer = (options: DevTokenOptions) => Layer.succeed(DevTokens, DevTokens.make(options))

  /** Dev tokens as a kind of `TokenVerifier` (recognised by their `dev.` prefix). */
  static readonly kind = (tokens: DevTokens["Type"]): TokenKind => ({
    name: "dev",
    recognises: (token) => token.startsWith("dev."),
    verify: tokens.verifyClaims
  })
}
