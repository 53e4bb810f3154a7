/** The one token check of every door: each kind of token goes to its own check, anything else is "malformed token". */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import { SessionId, UserId } from "../../domain/Ids.ts"
import { AccessTokens, makeAccessTokens } from "../../src/auth/AccessTokens.ts"
import { DevTokens } from "../../src/auth/DevTokens.ts"
import { parseSigningKeys } from "../../src/auth/SigningKeys.ts"
import { currentUserOf, TokenVerifier } from "../../src/auth/TokenVerifier.ts"

const access = makeAccessTokens({
  keys: Redacted.make(Either.getOrThrow(parseSigningKeys("k=unit-test-signing-secret-of-32-chars!", "KEYS"))),
  ttlMs: 60_000
})
const dev = DevTokens.make({ secret: Redacted.make("unit-dev-secret"), ttlMs: 60_000, issuing: true })
const both = TokenVerifier.make([AccessTokens.kind(access), DevTokens.kind(dev)])
const accessOnly = TokenVerifier.make([AccessTokens.kind(access)])

describe("TokenVerifier", () => {
  it.effect("verifies access tokens (with their session) and dev tokens (without one) side by side", () =>
    Effect.gen(function*() {
      const a = yield* access.issue(UserId.make("u_alice"), SessionId.make("s_1"))
      const d = yield* dev.issue(UserId.make("bob"))
      const fromAccess = yield* both.verifyHeader(`Bearer ${a.token}`)
      expect(currentUserOf(fromAccess)).toEqual({ userId: "u_alice", sessionId: "s_1" })
      expect(currentUserOf(yield* both.verifyClaims(d.token))).toEqual({ userId: "bob" })
    }))

  it.effect("refuses a dev token once dev tokens are not in the list, and anything of no kind, as malformed", () =>
    Effect.gen(function*() {
      const d = yield* dev.issue(UserId.make("bob"))
      expect((yield* Effect.flip(accessOnly.verifyClaims(d.token))).message).toBe("malformed token")
      for (const token of ["", "garbage", "a.b.c", "Bearer"]) {
        expect((yield* Effect.flip(both.verifyClaims(token))).message).toBe("malformed token")
      }
      expect((yield* Effect.flip(both.verifyHeader(undefined))).message).toBe("missing token")
    }))
})
