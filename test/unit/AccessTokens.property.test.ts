/**
 * Access tokens: the round trip (property), tampering (property), key
 * rotation (an old kid verifies while it is configured), expiry under
 * TestClock, and refusals of tokens that are not ours.
 */
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted, TestClock } from "effect"
import { SessionId, UserId } from "../../domain/Ids.ts"
import { makeAccessTokens } from "../../src/auth/AccessTokens.ts"
import { parseSigningKeys, type SigningKeys } from "../../src/auth/SigningKeys.ts"

const keysOf = (text: string): SigningKeys => Either.getOrThrow(parseSigningKeys(text, "KEYS"))
const oldKey = "old=the-old-signing-secret-with-32-characters!!"
const newKey = "new=the-new-signing-secret-with-32-characters!!"
const tokensWith = (text: string, ttlMs = 60_000) => makeAccessTokens({ keys: Redacted.make(keysOf(text)), ttlMs })
const tokens = tokensWith(oldKey)

/** Real time (these tests are about keys and bytes, not the clock). */
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.either(effect))
const verdict = async (t: ReturnType<typeof tokensWith>, token: string) =>
  Either.match(await run(t.verify(token)), { onLeft: (e) => e.message, onRight: (c) => `ok:${c.userId}:${c.sessionId}` })

const idChars = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
const userIdArb = fc.string({ unit: fc.oneof(idChars, fc.constantFrom(".", ":")), minLength: 1, maxLength: 64 })
const sessionIdArb = fc.string({ unit: idChars, minLength: 1, maxLength: 62 }).map((s) => `s_${s}`)

/** Whether two compact tokens carry the same bytes (base64url's last character may differ in unused bits only). */
const sameBytes = (x: string, y: string) => {
  const px = x.split(".")
  const py = y.split(".")
  return px.length === py.length && px.every((p, i) => Buffer.from(p, "base64url").equals(Buffer.from(py[i]!, "base64url")))
}

describe("access tokens: properties", () => {
  test.prop([userIdArb, sessionIdArb], { numRuns: 200 })("every issued token verifies to its user, session and expiry", async (u, s) => {
    const issued = Either.getOrThrow(await run(tokens.issue(UserId.make(u), SessionId.make(s))))
    const claims = Either.getOrThrow(await run(tokens.verify(issued.token)))
    expect(claims).toEqual({ userId: u, sessionId: s, expiresAt: issued.expiresAt })
  })

  test.prop([
    userIdArb,
    fc.array(fc.record({ at: fc.nat(), char: idChars }), { minLength: 1, maxLength: 3 })
  ], { numRuns: 500 })("a token changed in any character is refused unless it still carries the same bytes", async (u, edits) => {
    const { token } = Either.getOrThrow(await run(tokens.issue(UserId.make(u), SessionId.make("s_x"))))
    const tampered = edits.reduce((t, e) => {
      const i = e.at % t.length
      return t.slice(0, i) + e.char + t.slice(i + 1)
    }, token)
    fc.pre(!sameBytes(tampered, token))
    expect(await verdict(tokens, tampered)).not.toMatch(/^ok:/)
  })
})

describe("access tokens: keys", () => {
  it("keeps verifying a token of the old key after rotation, and refuses it once the old key is removed", async () => {
    const issued = Either.getOrThrow(await run(tokens.issue(UserId.make("alice"), SessionId.make("s_1"))))
    expect(await verdict(tokensWith(`${newKey},${oldKey}`), issued.token)).toBe("ok:alice:s_1")
    expect(await verdict(tokensWith(newKey), issued.token)).toBe("bad token signature")
    // New tokens are signed with the first key and name it.
    const rotated = tokensWith(`${newKey},${oldKey}`)
    const fresh = Either.getOrThrow(await run(rotated.issue(UserId.make("bob"), SessionId.make("s_2"))))
    expect(JSON.parse(Buffer.from(fresh.token.split(".")[0]!, "base64url").toString())).toEqual({ alg: "HS256", kid: "new", typ: "at+jwt" })
    expect(await verdict(tokens, fresh.token)).toBe("bad token signature")
  })

  it("refuses a token signed with another secret under the same key id", async () => {
    const other = tokensWith("old=a-different-secret-also-32-characters-long")
    const issued = Either.getOrThrow(await run(other.issue(UserId.make("mallory"), SessionId.make("s_m"))))
    expect(await verdict(tokens, issued.token)).toBe("bad token signature")
  })

  it("refuses unsigned, malformed and oversized tokens", async () => {
    const issued = Either.getOrThrow(await run(tokens.issue(UserId.make("alice"), SessionId.make("s_1"))))
    const [, payload] = issued.token.split(".")
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid: "old", typ: "at+jwt" })).toString("base64url")}.${payload}.`
    expect(await verdict(tokens, none)).not.toMatch(/^ok:/)
    expect(await verdict(tokens, "dev.abc.def")).toBe("malformed token")
    expect(await verdict(tokens, `eyJ${"a".repeat(5000)}.b.c`)).toBe("malformed token")
    expect(await verdict(tokens, "")).toBe("malformed token")
  })

  it.effect("expires a token at its exp, measured with the Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_800_000_000_000)
      const short = tokensWith(oldKey, 5_000)
      const issued = yield* short.issue(UserId.make("alice"), SessionId.make("s_1"))
      expect(issued.expiresAt).toBe(1_800_000_005_000)
      expect((yield* short.verify(issued.token)).expiresAt).toBe(issued.expiresAt)
      yield* TestClock.adjust("4999 millis")
      expect(Either.isRight(yield* Effect.either(short.verify(issued.token)))).toBe(true)
      yield* TestClock.adjust("1 millis")
      const expired = yield* Effect.flip(short.verify(issued.token))
      expect(expired.message).toBe("token expired")
    }))
})

describe("PLEXI_AUTH_SIGNING_KEYS", () => {
  it("parses kid=secret entries: the first signs, every one verifies", () => {
    const keys = keysOf(` ${newKey} , ${oldKey} `)
    expect(keys.active.kid).toBe("new")
    expect(keys.all.map((k) => k.kid)).toEqual(["new", "old"])
  })

  it.each([
    ["", /at least one key/],
    ["nokey", /not kid=secret/],
    ["bad kid!=0123456789012345678901234567890123", /key id/],
    ["k=short", /shorter than 32/],
    [`${oldKey},${oldKey}`, /listed twice/]
  ])("refuses %j, naming the variable and never the secret", (text, problem) => {
    const error = Either.getLeft(parseSigningKeys(text, "PLEXI_AUTH_SIGNING_KEYS"))
    expect(error._tag).toBe("Some")
    const message = error._tag === "Some" ? error.value : ""
    expect(message).toMatch(problem)
    expect(message).toContain("PLEXI_AUTH_SIGNING_KEYS")
    expect(message).not.toContain("secret-with")
  })
})
