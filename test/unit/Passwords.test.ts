/**
 * Passwords: the rules (typed `WeakPassword` reasons), the Argon2id hasher
 * (round trip, rehash detection, the same work for an unknown user) and
 * that hashing runs off the JavaScript thread: timers keep firing on time
 * while hashes are computed.
 */
import { hashSync } from "@node-rs/argon2"
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

  it.live("keeps the event loop responsive while a burst of hashes runs (they run on libuv's worker threads)", () =>
    Effect.gen(function*() {
      const heavy = { memoryKib: 64 * 1024, timeCost: 3, parallelism: 1 }
      // What one hash costs on this machine when it does block the thread.
      const started = performance.now()
      hashSync("calibration", { memoryCost: heavy.memoryKib, timeCost: heavy.timeCost, parallelism: 1 })
      const oneHashMs = performance.now() - started

      const hasher = yield* makePasswordHasher(heavy, 2)
      let last = performance.now()
      let worstGap = 0
      const timer = setInterval(() => {
        const now = performance.now()
        worstGap = Math.max(worstGap, now - last)
        last = now
      }, 5)
      const burstStarted = performance.now()
      yield* Effect.forEach(Array.from({ length: 6 }, (_, i) => `password ${i}`), hasher.hash, { concurrency: "unbounded" })
      const burstMs = performance.now() - burstStarted
      clearInterval(timer)
      // Six hashes, two at a time, take several hash-times; the loop never waited anywhere near one of them.
      expect(burstMs).toBeGreaterThan(oneHashMs * 2)
      expect(worstGap).toBeLessThan(oneHashMs / 2)
    }), 60_000)
})
