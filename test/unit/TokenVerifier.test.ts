/** The one token check of every door: each kind of token goes to its own check, anything else is "malformed token". */
import { createHmac } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { SessionId, UserId } from "../../domain/Ids.ts"
import { currentUserOf } from "../../src/auth/TokenVerifier.ts"
import { craftAccessToken, testAccessTokens, testTokenVerifier } from "../fixtures/TestTokens.ts"

/** The secret the removed development tokens defaulted to (README, before issue 7): public, so anyone could sign with it. */
const oldPublicSecret = "plexichat-development-secret-change-me"

/** A token in the removed development format, `dev.<payload>.<HMAC-SHA256>`, signed with the old public secret. */
const oldDevToken = (sub: string) => {
  const payload = Buffer.from(JSON.stringify({ sub, exp: Date.now() + 60_000 })).toString("base64url")
  return `dev.${payload}.${createHmac("sha256", oldPublicSecret).update(payload).digest("base64url")}`
}

describe("TokenVerifier", () => {
  it.effect("verifies an access token, with its user and session, from a header or bare", () =>
    Effect.gen(function*() {
      const issued = yield* testAccessTokens.issue(UserId.make("u_alice"), SessionId.make("s_1"))
      expect(currentUserOf(yield* testTokenVerifier.verifyHeader(`Bearer ${issued.token}`))).toEqual({ userId: "u_alice", sessionId: "s_1" })
      expect((yield* testTokenVerifier.verifyClaims(issued.token)).expiresAt).toBe(issued.expiresAt)
    }))

  it.effect("refuses a token of the removed development format, and anything of no kind, as malformed", () =>
    Effect.gen(function*() {
      for (const token of [oldDevToken("admin"), "dev.x.y", "", "garbage", "a.b.c", "Bearer"]) {
        expect((yield* Effect.flip(testTokenVerifier.verifyClaims(token))).message).toBe("malformed token")
      }
      expect((yield* Effect.flip(testTokenVerifier.verifyHeader(undefined))).message).toBe("missing token")
    }))

  it.effect("refuses a JWT signed with the old public development secret, whatever its claims", () =>
    Effect.gen(function*() {
      const forged = yield* Effect.promise(() =>
        craftAccessToken({ sub: "admin", expiresAt: Date.now() + 60_000, secret: oldPublicSecret })
      )
      expect((yield* Effect.flip(testTokenVerifier.verifyClaims(forged))).message).toBe("bad token signature")
    }))
})
