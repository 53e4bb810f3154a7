/**
 * Passwords: the rules (typed `WeakPassword` reasons), the Argon2id hasher
 * (round trip, rehash detection, the same work for an unknown user) and
 * that hashing runs off the JavaScript thread: timers keep firing on time
 * while hashes are computed.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { makePasswordHasher } from "../../src/auth/PasswordHasher.ts"
import { loadCommonPasswords, makePasswordPolicy } from "../../src/auth/PasswordPolicy.ts"

const policy = makePasswordPolicy({ minLength: 10, maxLength: 64 }, loadCommonPasswords())
const reasonOf = (password: string, username = "someone") =>
  Either.match(Effect.runSync(Effect.either(policy(password, username))), { onLeft: (e) => e.reason, onRight: () => "ok" })

describe("password rules", () => {
  it.each([
    ["short", "too_short"],
    ["ünïcödé€€", "too_short"],
    ["x".repeat(64) + "y", "too_long"],
    ["1234567890", "common"],
    ["QwertyUiop", "common"],
    ["Password2024!", "common"],
    ["letmein123456", "common"],
    ["aaaaaaaaaaaa", "common"],
    ["Someone", "too_short"],
    ["a long and unusual passphrase", "ok"],
    ["correct horse battery staple", "ok"]
  ])("%j: %s", (password, reason) => {
    expect(reasonOf(password)).toBe(reason)
  })

  it("refuses the username as the password in any case", () => {
    expect(reasonOf("Mallory.The.Great", "mallory.the.great")).toBe("matches_username")
  })

  it("says the configured bounds in the message", () => {
    const error = Effect.runSync(Effect.flip(policy("short", "u")))
    expect(error.message).toContain("at least 10 characters")
  })

  it("bundles a list of common passwords", () => {
    const list = loadCommonPasswords()
    expect(list.size).toBeGreaterThan(200)
    expect(list.has("password")).toBe(true)
    expect([...list].every((p) => p === p.toLowerCase())).toBe(true)
  })
})

const cheap = { memoryKib: 1024, timeCost: 1, parallelism: 1 }

describe("password hasher", () => {
  it.effect("verifies the password it hashed and refuses another, with an Argon2id PHC string of the configured cost", () =>
    Effect.gen(function*() {
      const hasher = yield* makePasswordHasher(cheap, 2)
      const hashed = yield* hasher.hash("a long and unusual passphrase")
      expect(hashed).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/)
      expect(yield* hasher.verify(hashed, "a long and unusual passphrase")).toBe(true)
      expect(yield* hasher.verify(hashed, "a long and unusual passphrasf")).toBe(false)
      expect(hasher.needsRehash(hashed)).toBe(false)
      const stronger = yield* makePasswordHasher({ ...cheap, timeCost: 2 }, 2)
      expect(stronger.needsRehash(hashed)).toBe(true)
      expect(stronger.needsRehash("not a hash")).toBe(true)
      yield* hasher.verifyNobody("anything")
    }))

  it.live("keeps the event loop turning while a burst of hashes runs (they run on libuv's worker threads)", () =>
    Effect.gen(function*() {
      const heavy = { memoryKib: 64 * 1024, timeCost: 3, parallelism: 1 }
      const hasher = yield* makePasswordHasher(heavy, 2)
      // Counts turns of the event loop while the hashes run: a hash on the main thread would allow none until
      // it returned, so the first hash would finish before the first turn.
      let turns = 0
      let turnsAtFirstHash: number | undefined
      let running = true
      const turn = () => {
        turns++
        if (running) setImmediate(turn)
      }
      setImmediate(turn)
      yield* Effect.forEach(
        Array.from({ length: 6 }, (_, i) => `password ${i}`),
        (password) => Effect.tap(hasher.hash(password), () => Effect.sync(() => turnsAtFirstHash ??= turns)),
        { concurrency: "unbounded" }
      )
      running = false
      expect(turnsAtFirstHash).toBeGreaterThan(0)
      expect(turns).toBeGreaterThan(turnsAtFirstHash!)
    }), 60_000)
})
