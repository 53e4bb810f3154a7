/**
 * The login throttle on real Postgres, with a clock the test moves forward:
 * progressive delay then lockout of one account from one address, the
 * account-wide lock that holds only the addresses that failed, the address
 * lock, parallel attempts that cannot slip past the delay, an admin's
 * unlock, and a security key's failures counted on the same rows. A refused attempt writes nothing but the throttle's own record:
 * no session.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either } from "effect"
import { SessionId, UserId } from "../../domain/Ids.ts"
import { Accounts } from "../../src/auth/Accounts.ts"
import { AdminUnlock } from "../../src/auth/AdminUnlock.ts"
import { LoginThrottle } from "../../src/auth/LoginThrottle.ts"
import type { LoginThrottleShape } from "../../src/auth/LoginThrottleConfig.ts"
import { accountsOn, generousThrottle, shiftedClock } from "../fixtures/AccountsLayer.ts"
import { realPostgres } from "../fixtures/TestDatabase.ts"

const password = "a long and unusual passphrase"
const from = (ip: string) => ({ ip, userAgent: "integration" })

const strict: Partial<LoginThrottleShape> = {
  ...generousThrottle,
  delayAfter: 3,
  delayBase: Duration.seconds(1),
  delayMax: Duration.seconds(8),
  lockAfter: 6,
  lockDuration: Duration.minutes(15),
  accountLockAfter: 5,
  accountLockDuration: Duration.minutes(2),
  addressLockAfter: 20,
  addressLockDuration: Duration.minutes(30)
}

/** The outcome's tag (and wait) of one sign-in. */
const attempt = (username: string, pass: string, ip: string) =>
  Effect.flatMap(Accounts, (accounts) => Effect.either(accounts.login({ username, password: pass }, from(ip)))).pipe(
    Effect.map(Either.match({
      onRight: () => ({ tag: "Signed-in", retryAfterMs: 0 }),
      onLeft: (e) => ({ tag: e._tag, retryAfterMs: "retryAfterMs" in e ? e.retryAfterMs : 0, scope: "scope" in e ? e.scope : undefined })
    }))
  )

const sessionsOf = (username: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ n: string }>`SELECT count(*) AS n FROM plexi_sessions s JOIN plexi_accounts a ON a.user_id = s.user_id
      WHERE lower(a.username) = ${username}`).pipe(Effect.map((rows) => Number(rows[0]!.n)))

describe("login throttle on real Postgres", () => {
  it.scopedLive("delays each attempt after 3 failures, doubling, then locks the account for that address only; the owner signs in from another", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      const offset = { ms: 0 }
      yield* Effect.gen(function*() {
        yield* Effect.flatMap(Accounts, (a) => a.register({ username: "victim", password }, from("10.0.0.1")))
        const outcomes: Array<string> = []
        for (let i = 0; i < 3; i++) outcomes.push((yield* attempt("victim", "wrong guess", "10.6.6.6")).tag)
        expect(outcomes).toEqual(["InvalidCredentials", "InvalidCredentials", "InvalidCredentials"])
        // The fourth comes too early: refused before any password work, counted nowhere.
        // Each wait doubles: 10 s after the 3rd failure, 20 s after the 4th, 40 s (the most) after the 5th.
        // (The real clock runs on under the shifted one: each step takes some ms, hence the margins.)
        for (const wait of [10_000, 20_000, 40_000]) {
          const early = yield* attempt("victim", "wrong guess", "10.6.6.6")
          expect(early.tag).toBe("RateLimited")
          expect(early.retryAfterMs).toBeLessThanOrEqual(wait)
          expect(early.retryAfterMs).toBeGreaterThan(wait - 3000)
          offset.ms += wait - 4000
          expect((yield* attempt("victim", "wrong guess", "10.6.6.6")).tag).toBe("RateLimited")
          offset.ms += 4000
          expect((yield* attempt("victim", "wrong guess", "10.6.6.6")).tag).toBe("InvalidCredentials")
        }
        // The 6th failure locked the pair for 15 minutes: even the right password is refused from there.
        offset.ms += 40_000
        const locked = yield* attempt("victim", password, "10.6.6.6")
        expect(locked).toMatchObject({ tag: "SignInLocked", scope: "account" })
        expect(locked.retryAfterMs).toBeGreaterThan(14 * 60_000)
        // The owner, from an address that did not fail, is not locked out.
        expect((yield* attempt("victim", password, "10.0.0.1")).tag).toBe("Signed-in")
        // Nothing but the throttle's record was written for the refused attempts: one session from registration, one sign-in.
        expect(yield* sessionsOf("victim")).toBe(2)
        offset.ms += 15 * 60_000
        expect((yield* attempt("victim", password, "10.6.6.6")).tag).toBe("Signed-in")
      }).pipe(
        Effect.provide(accountsOn(db.url, {}, {
          ...strict,
          delayBase: Duration.seconds(10),
          delayMax: Duration.seconds(40),
          accountLockAfter: 100
        })),
        Effect.withClock(shiftedClock(offset))
      )
    }), 60_000)

  it.scopedLive("locks an account attacked from many addresses only for those addresses, for a short time", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      const offset = { ms: 0 }
      yield* Effect.gen(function*() {
        yield* Effect.flatMap(Accounts, (a) => a.register({ username: "target", password }, from("10.0.0.1")))
        // 5 botnet addresses, one guess each: the account lock starts.
        for (let i = 1; i <= 5; i++) expect((yield* attempt("target", `guess ${i}`, `10.9.0.${i}`)).tag).toBe("InvalidCredentials")
        // A botnet address that already failed is locked, even with the right password, for 2 minutes.
        const locked = yield* attempt("target", password, "10.9.0.1")
        expect(locked).toMatchObject({ tag: "SignInLocked", scope: "account" })
        expect(locked.retryAfterMs).toBeLessThanOrEqual(2 * 60_000)
        // A fresh address gets one guess: its failure puts it under the lock too.
        expect((yield* attempt("target", "guess 6", "10.9.0.6")).tag).toBe("InvalidCredentials")
        expect((yield* attempt("target", "guess 7", "10.9.0.6")).tag).toBe("SignInLocked")
        // The owner, from any address that did not fail, signs in at once.
        expect((yield* attempt("target", password, "192.0.2.7")).tag).toBe("Signed-in")
        // And from a failing one once the short lock is over.
        offset.ms += 2 * 60_000
        expect((yield* attempt("target", password, "10.9.0.1")).tag).toBe("Signed-in")
      }).pipe(Effect.provide(accountsOn(db.url, {}, strict)), Effect.withClock(shiftedClock(offset)))
    }), 60_000)

  it.scopedLive("locks an address spraying passwords over many accounts, unknown usernames counted alike", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      yield* Effect.gen(function*() {
        yield* Effect.flatMap(Accounts, (a) => a.register({ username: "sprayed", password }, from("10.0.0.1")))
        for (let i = 0; i < 4; i++) expect((yield* attempt(`nobody${i}`, "Summer2026!", "10.7.7.7")).tag).toBe("InvalidCredentials")
        const locked = yield* attempt("sprayed", password, "10.7.7.7")
        expect(locked).toMatchObject({ tag: "SignInLocked", scope: "address" })
        expect((yield* attempt("sprayed", password, "10.0.0.2")).tag).toBe("Signed-in")
      }).pipe(Effect.provide(accountsOn(db.url, {}, { ...strict, addressLockAfter: 4 })))
    }), 60_000)

  it.scopedLive("lets no more than the free attempts through when they come all at once", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      yield* Effect.gen(function*() {
        yield* Effect.flatMap(Accounts, (a) => a.register({ username: "rushed", password }, from("10.0.0.1")))
        const outcomes = yield* Effect.all(Array.from({ length: 12 }, () => attempt("rushed", "wrong guess", "10.5.5.5")), {
          concurrency: "unbounded"
        })
        const checked = outcomes.filter((o) => o.tag === "InvalidCredentials").length
        expect(checked).toBe(3)
        expect(outcomes.filter((o) => o.tag === "RateLimited").length).toBe(9)
      }).pipe(Effect.provide(accountsOn(db.url, {}, { ...strict, delayBase: Duration.seconds(30), delayMax: Duration.seconds(30) })))
    }), 60_000)

  it.scopedLive("an admin's unlock lifts the account's locks; a member may not unlock", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      yield* Effect.gen(function*() {
        const accounts = yield* Accounts
        const owner = yield* accounts.register({ username: "boss", password }, from("10.0.0.1"))
        const member = yield* accounts.register({ username: "locked", password }, from("10.0.0.1"))
        for (let i = 0; i < 3; i++) yield* attempt("locked", "wrong guess", "10.4.4.4")
        expect((yield* attempt("locked", password, "10.4.4.4")).tag).toBe("RateLimited")
        const admin = yield* AdminUnlock
        const denied = yield* Effect.either(admin.unlock({ userId: member.userId, sessionId: member.sessionId }, member.userId))
        expect(Either.isLeft(denied) && denied.left._tag).toBe("Forbidden")
        const unknown = yield* Effect.either(admin.unlock({ userId: owner.userId, sessionId: owner.sessionId }, UserId.make("u_nobody")))
        expect(Either.isLeft(unknown) && unknown.left._tag).toBe("AccountNotFound")
        const done = yield* admin.unlock({ userId: owner.userId, sessionId: SessionId.make(owner.sessionId) }, member.userId)
        expect(done).toEqual({ userId: member.userId, cleared: 2 })
        expect((yield* attempt("locked", password, "10.4.4.4")).tag).toBe("Signed-in")
      }).pipe(Effect.provide(accountsOn(db.url, {}, strict)))
    }), 60_000)

  it.scopedLive("counts a security key's failures on the same rows as wrong passwords: the same delay, and the address lock for unknown keys", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      yield* Effect.gen(function*() {
        const throttle = yield* LoginThrottle
        yield* Effect.flatMap(Accounts, (a) => a.register({ username: "keyed", password }, from("10.0.0.1")))
        // One wrong password and two refused keys of the account from one address: the delay (after 3) starts.
        expect((yield* attempt("keyed", "wrong guess", "10.7.7.7")).tag).toBe("InvalidCredentials")
        for (let i = 0; i < 2; i++) yield* throttle.failedKey(yield* throttle.admitKey("keyed", "10.7.7.7"))
        const key = yield* Effect.either(throttle.admitKey("keyed", "10.7.7.7"))
        expect(Either.isLeft(key) && key.left._tag).toBe("RateLimited")
        const pass = yield* attempt("keyed", password, "10.7.7.7")
        expect(pass.tag).toBe("RateLimited")
        expect(pass.retryAfterMs).toBeGreaterThan(0)
        // An admitted key (whose ceremony then succeeds) reserves nothing: no row of its pair is written.
        yield* throttle.admitKey("keyed", "10.8.8.8")
        const pairs = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql<{ n: string }>`SELECT count(*) AS n FROM plexi_login_throttle WHERE username = 'u:keyed' AND address LIKE ${"%10.8.8.8%"}`)
        expect(Number(pairs[0]!.n)).toBe(0)
        // Unknown credentials name no account: 20 of them (the address lock) lock the address for every account.
        for (let i = 0; i < 20; i++) yield* throttle.failedKey(yield* throttle.admitKey(undefined, "10.9.9.9"))
        expect(yield* attempt("keyed", password, "10.9.9.9")).toMatchObject({ tag: "SignInLocked", scope: "address" })
        const unknown = yield* Effect.either(throttle.admitKey(undefined, "10.9.9.9"))
        expect(Either.isLeft(unknown) && unknown.left._tag).toBe("SignInLocked")
        // And no account row was counted for them.
        const rows = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql<{ failures: number }>`SELECT failures FROM plexi_login_throttle WHERE username = 'u:keyed' AND address = ''`)
        expect(Number(rows[0]!.failures)).toBe(3)
      }).pipe(Effect.provide(accountsOn(db.url, {}, { ...strict, delayBase: Duration.seconds(30), delayMax: Duration.seconds(30) })))
    }), 60_000)
})
