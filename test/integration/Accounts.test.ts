/**
 * The account service on real Postgres, with a clock the test moves
 * forward: refresh tokens and sessions expire, a changed Argon2 cost is
 * applied at the next sign-in, and two refreshes racing with one token
 * never both succeed.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Option } from "effect"
import { Accounts } from "../../src/auth/Accounts.ts"
import { accountsOn, cheapArgon2, shiftedClock } from "../fixtures/AccountsLayer.ts"
import { realPostgres } from "../fixtures/TestDatabase.ts"

const client = { ip: "127.0.0.1", userAgent: "integration" }
const password = "a long and unusual passphrase"

describe("accounts on real Postgres", () => {
  it.scopedLive("ends a refresh token and its session after PLEXI_AUTH_REFRESH_TTL without a refresh", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      const offset = { ms: 0 }
      yield* Effect.gen(function*() {
        const accounts = yield* Accounts
        const pair = yield* accounts.register({ username: "sleeper", password }, client)
        offset.ms = 59_000
        const refreshed = yield* accounts.refresh(pair.refreshToken, client)
        expect((yield* accounts.sessions({ userId: refreshed.userId, sessionId: refreshed.sessionId })).map((s) => s.id)).toEqual([pair.sessionId])
        // 60 s after that refresh, its token has expired, and the session is no longer listed.
        offset.ms = 59_000 + 60_000
        const expired = yield* Effect.flip(accounts.refresh(refreshed.refreshToken, client))
        expect(expired).toMatchObject({ _tag: "InvalidRefreshToken", reason: "expired" })
        expect(yield* accounts.sessions({ userId: refreshed.userId, sessionId: refreshed.sessionId })).toEqual([])
      }).pipe(Effect.provide(accountsOn(db.url, { config: { refreshTtl: Duration.seconds(60) } })), Effect.withClock(shiftedClock(offset)))
    }), 60_000)

  it.scopedLive("lets one of two refreshes racing with the same token rotate it; the other is a reuse and ends the session", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      yield* Effect.gen(function*() {
        const accounts = yield* Accounts
        const pair = yield* accounts.register({ username: "racer", password }, client)
        const outcomes = yield* Effect.all(
          [accounts.refresh(pair.refreshToken, client), accounts.refresh(pair.refreshToken, client)].map(Effect.either),
          { concurrency: "unbounded" }
        )
        const won = outcomes.filter(Either.isRight)
        const lost = outcomes.filter(Either.isLeft).map((o) => o.left)
        expect(won).toHaveLength(1)
        expect(lost).toEqual([expect.objectContaining({ _tag: "InvalidRefreshToken", reason: "reused" })])
        const winner = won[0]!.right
        expect(yield* Effect.flip(accounts.refresh(winner.refreshToken, client))).toMatchObject({ reason: "revoked" })
      }).pipe(Effect.provide(accountsOn(db.url)))
    }), 60_000)

  it.scopedLive("rehashes a password at the configured Argon2 cost when its owner signs in after the cost changed", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      const hashOf = Effect.flatMap(SqlClient.SqlClient, (sql) =>
        Effect.map(sql<{ password_hash: string }>`SELECT password_hash FROM plexi_accounts WHERE username = 'upgrader'`, (rows) =>
          Option.getOrThrow(Option.fromNullable(rows[0])).password_hash))
      const before = yield* Effect.gen(function*() {
        yield* (yield* Accounts).register({ username: "upgrader", password }, client)
        return yield* hashOf
      }).pipe(Effect.provide(accountsOn(db.url)))
      expect(before).toContain("m=1024,t=1,p=1")
      const after = yield* Effect.gen(function*() {
        yield* (yield* Accounts).login({ username: "upgrader", password }, client)
        return yield* hashOf
      }).pipe(Effect.provide(accountsOn(db.url, { config: { argon2: { ...cheapArgon2, timeCost: 2 } } })))
      expect(after).toContain("m=1024,t=2,p=1")
      // The new hash verifies the same password.
      yield* Effect.flatMap(Accounts, (accounts) => accounts.login({ username: "upgrader", password }, client)).pipe(
        Effect.provide(accountsOn(db.url, { config: { argon2: { ...cheapArgon2, timeCost: 2 } } }))
      )
    }), 60_000)

  it.scopedLive("lets only one of two owners disabling each other at once succeed, so an enabled owner always remains", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      yield* Effect.gen(function*() {
        const accounts = yield* Accounts
        const sql = yield* SqlClient.SqlClient
        const first = yield* accounts.register({ username: "owner-one", password }, client)
        const second = yield* accounts.register({ username: "owner-two", password }, client)
        yield* sql`UPDATE plexi_accounts SET role = 'owner' WHERE user_id = ${second.userId}`
        const outcomes = yield* Effect.all(
          [accounts.disable(first, second.userId), accounts.disable(second, first.userId)].map(Effect.either),
          { concurrency: "unbounded" }
        )
        expect(outcomes.filter(Either.isRight)).toHaveLength(1)
        // The loser found itself disabled when it got the locks.
        expect(outcomes.filter(Either.isLeft).map((o) => o.left)).toEqual([expect.objectContaining({ _tag: "Forbidden" })])
        const enabled = yield* sql<{ n: string }>`SELECT count(*) AS n FROM plexi_accounts WHERE role = 'owner' AND disabled_at IS NULL`
        expect(Number(enabled[0]!.n)).toBe(1)
      }).pipe(Effect.provide(accountsOn(db.url)))
    }), 60_000)
})
