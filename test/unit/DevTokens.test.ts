/**
 * Development tokens: round trip, bad signature, expiry, malformed input, and
 * a property test that no tampering of a valid token is ever accepted.
 */
import { createHmac } from "node:crypto"
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted, TestClock } from "effect"
import { UserId } from "../../domain/Ids.ts"
import { DevTokens } from "../../src/auth/DevTokens.ts"

const secret = "test-secret-for-dev-tokens"
/** Issues at the real time (tests of expiry use TestClock below). */
const issueSync = (t: DevTokens["Type"], userId: UserId) => Effect.runSync(t.issue(userId))
const tokens = DevTokens.make({ secret: Redacted.make(secret), ttlMs: 60_000, issuing: true })
const alice = UserId.make("alice")

/** A token signed with the right secret over any payload text. */
const signed = (payload: string, key = secret) => {
  const encoded = Buffer.from(payload).toString("base64url")
  return `dev.${encoded}.${createHmac("sha256", key).update(encoded).digest("base64url")}`
}

/** The Unauthorized message for `token`, or "ok:<userId>" when it verifies. */
const verdict = (token: string) =>
  Effect.runSync(Effect.either(tokens.verify(token)).pipe(
    Effect.map(Either.match({ onLeft: (e) => e.message, onRight: (u) => `ok:${u}` }))
  ))

describe("DevTokens", () => {
  it.effect("issue then verify returns the user id", () =>
    Effect.gen(function*() {
      const before = Date.now()
      const { expiresAt, token } = issueSync(tokens, alice)
      expect(expiresAt).toBeGreaterThanOrEqual(before + 60_000)
      expect(token.startsWith("dev.")).toBe(true)
      expect(yield* tokens.verify(token)).toBe(alice)
      expect(yield* tokens.verifyHeader(`Bearer ${token}`)).toBe(alice)
      expect(yield* tokens.verifyHeader(token)).toBe(alice)
    }))

  it.effect("a token signed with another secret is refused", () =>
    Effect.gen(function*() {
      const other = DevTokens.make({ secret: Redacted.make("another secret"), ttlMs: 60_000, issuing: true })
      const error = yield* Effect.flip(tokens.verify(issueSync(other, alice).token))
      expect(error._tag).toBe("Unauthorized")
      expect(error.message).toBe("bad token signature")
    }))

  it.live("an expired token is refused", () =>
    Effect.gen(function*() {
      const expired = DevTokens.make({ secret: Redacted.make(secret), ttlMs: -1, issuing: true })
      const error = yield* Effect.flip(tokens.verify(issueSync(expired, alice).token))
      expect(error.message).toBe("token expired")
      expect(verdict(signed(JSON.stringify({ sub: "alice", exp: Date.now() - 1000 })))).toBe("token expired")
      expect(verdict(signed(JSON.stringify({ sub: "alice" })))).toBe("token expired")
      expect(verdict(signed(JSON.stringify({ sub: "alice", exp: String(Date.now() + 60_000) })))).toBe("token expired")
    }))

  it.effect("a token expires at issue time + ttl on the Clock, and verifyClaims tells when", () =>
    Effect.gen(function*() {
      const short = DevTokens.make({ secret: Redacted.make(secret), ttlMs: 1000, issuing: true })
      const { expiresAt, token } = yield* short.issue(alice)
      expect(expiresAt).toBe(1000)
      expect(yield* short.verifyClaims(token)).toEqual({ userId: alice, expiresAt: 1000 })
      yield* TestClock.adjust("999 millis")
      expect(yield* short.verify(token)).toBe(alice)
      yield* TestClock.adjust("1 millis")
      expect((yield* Effect.flip(short.verify(token))).message).toBe("token expired")
    }))

  it.effect("a token or header of the wrong type is refused, not thrown", () =>
    Effect.gen(function*() {
      expect((yield* Effect.flip(tokens.verify({ toString: 1 } as never))).message).toBe("malformed token")
      expect((yield* Effect.flip(tokens.verifyHeader(42 as never))).message).toBe("missing token")
    }))

  it("malformed tokens are refused", () => {
    const { token } = issueSync(tokens, alice)
    const [, payload, signature] = token.split(".")
    for (
      const bad of [
        "",
        "dev",
        "garbage",
        `dev.${payload}`,
        `xyz.${payload}.${signature}`,
        `${token}.extra`,
        `dev.${payload}.${signature}.`
      ]
    ) {
      expect(verdict(bad)).toBe("malformed token")
    }
    // three parts with an empty signature fail on the signature
    expect(verdict("dev..")).toBe("bad token signature")
    expect(verdict(`dev.${payload}.`)).toBe("bad token signature")
    // properly signed, but not JSON, or with a subject that is not a user id
    expect(verdict(signed("not json"))).toBe("malformed token")
    expect(verdict(signed(JSON.stringify({ sub: "has space", exp: Date.now() + 60_000 })))).toBe("malformed token")
    expect(verdict(signed(JSON.stringify({ sub: 42, exp: Date.now() + 60_000 })))).toBe("malformed token")
    expect(verdict(signed(JSON.stringify({ exp: Date.now() + 60_000 })))).toBe("malformed token")
    // and a well-formed one passes the same path
    expect(verdict(signed(JSON.stringify({ sub: "alice", exp: Date.now() + 60_000 })))).toBe("ok:alice")
  })

  it.effect("a missing Authorization header is refused", () =>
    Effect.gen(function*() {
      expect((yield* Effect.flip(tokens.verifyHeader(undefined))).message).toBe("missing token")
      expect((yield* Effect.flip(tokens.verifyHeader(""))).message).toBe("missing token")
      expect((yield* Effect.flip(tokens.verifyHeader("Bearer "))).message).toBe("malformed token")
    }))
})

const userIdArb = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/)
const tokenChar = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ".split(""))

/** One edit of a token: replace, insert or delete a character, or truncate. */
const tamperArb = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), char: tokenChar }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), char: tokenChar }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() })
)
type Tamper = typeof tamperArb extends fc.Arbitrary<infer T> ? T : never

const applyTamper = (token: string, edit: Tamper): string => {
  switch (edit.kind) {
    case "replace": {
      const at = edit.at % token.length
      return token.slice(0, at) + edit.char + token.slice(at + 1)
    }
    case "insert": {
      const at = edit.at % (token.length + 1)
      return token.slice(0, at) + edit.char + token.slice(at)
    }
    case "delete": {
      const at = edit.at % token.length
      return token.slice(0, at) + token.slice(at + 1)
    }
    case "truncate":
      return token.slice(0, edit.at % token.length)
  }
}

describe("DevTokens properties", () => {
  test.prop([userIdArb], { numRuns: 200 })("every issued token verifies to its user id", (id) => {
    expect(verdict(issueSync(tokens, UserId.make(id)).token)).toBe(`ok:${id}`)
  })

  test.prop([userIdArb, fc.array(tamperArb, { minLength: 1, maxLength: 3 })], { numRuns: 1000 })(
    "any tampering of a valid token is rejected",
    (id, edits) => {
      const { token } = issueSync(tokens, UserId.make(id))
      const tampered = edits.reduce(applyTamper, token)
      fc.pre(tampered !== token)
      expect(verdict(tampered)).not.toMatch(/^ok:/)
    }
  )

  test.prop([userIdArb, userIdArb], { numRuns: 200 })(
    "a signature moved onto another payload is rejected",
    (a, b) => {
      fc.pre(a !== b)
      const [, payloadA] = issueSync(tokens, UserId.make(a)).token.split(".")
      const [, , signatureB] = issueSync(tokens, UserId.make(b)).token.split(".")
      expect(verdict(`dev.${payloadA}.${signatureB}`)).toBe("bad token signature")
    }
  )
})
