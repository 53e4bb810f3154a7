/**
 * The account service on real Postgres, with a clock the test moves
 * forward: refresh tokens and sessions expire, a changed Argon2 cost is
 * applied at the next sign-in, and two refreshes racing with one token
 * never both succeed.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ShardingConfig } from "@effect/cluster"
import { Clock, Duration, Effect, Either, Layer, Option, Redacted } from "effect"
import { layerPostgres } from "../../runtime/sql/Database.ts"
import { migrate } from "../../runtime/sql/Migrations.ts"
import { AccessTokens } from "../../src/auth/AccessTokens.ts"
import { Accounts } from "../../src/auth/Accounts.ts"
import { AccountStore } from "../../src/auth/AccountStore.ts"
import * as AuthConfig from "../../src/auth/AuthConfig.ts"
import * as MfaConfig from "../../src/auth/mfa/MfaConfig.ts"
import { MfaSecrets } from "../../src/auth/mfa/SecretBox.ts"
import { MfaStore } from "../../src/auth/MfaStore.ts"
import { parseSigningKeys } from "../../src/auth/SigningKeys.ts"
import { realPostgres } from "../fixtures/TestDatabase.ts"

/** The real clock plus `offset.ms`, which a test advances. */
const shiftedClock = (offset: { ms: number }): Clock.Clock => {
  const real = Clock.make()
  return Object.assign(Object.create(real) as Clock.Clock, {
    unsafeCurrentTimeMillis: () => real.unsafeCurrentTimeMillis() + offset.ms,
    currentTimeMillis: Effect.sync(() => real.unsafeCurrentTimeMillis() + offset.ms)
  })
}

const keys = Redacted.make(Either.getOrThrow(parseSigningKeys("it=integration-test-signing-secret-32-chars", "KEYS")))
const cheap = { memoryKib: 1024, timeCost: 1, parallelism: 1 }

/** Accounts over the database at `url`, migrated, with `config` on top of the defaults. */
const accountsOn = (url: string, config: Partial<AuthConfig.AuthConfigShape> = {}) => {
  const settings = AuthConfig.layer({ argon2: cheap, ...config })
  const sql = Layer.effectDiscard(migrate({ runnerTables: false, lock: false })).pipe(
    Layer.provide(ShardingConfig.layer()),
    Layer.provideMerge(layerPostgres(Redacted.make(url)))
  )
  return Accounts.layer.pipe(
    Layer.provide(Layer.mergeAll(AccountStore.Default, MfaStore.Default, MfaSecrets.layer(Redacted.value(keys)), MfaConfig.layer())),
    Layer.provide(AccessTokens.layer({ keys, ttlMs: 60_000 })),
    Layer.provide(settings),
    Layer.provideMerge(sql)
  )
}

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
        expect((yield* accounts.sessions({ userId: refreshed.userId })).map((s) => s.id)).toEqual([pair.sessionId])
        // 60 s after that refresh, its token has expired, and the session is no longer listed.
        offset.ms = 59_000 + 60_000
        const expired = yield* Effect.flip(accounts.refresh(refreshed.refreshToken, client))
        expect(expired).toMatchObject({ _tag: "InvalidRefreshToken", reason: "expired" })
        expect(yield* accounts.sessions({ userId: refreshed.userId })).toEqual([])
      }).pipe(Effect.provide(accountsOn(db.url, { refreshTtl: Duration.seconds(60) })), Effect.withClock(shiftedClock(offset)))
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
      }).pipe(Effect.provide(accountsOn(db.url, { argon2: { ...cheap, timeCost: 2 } })))
      expect(after).toContain("m=1024,t=2,p=1")
      // The new hash verifies the same password.
      yield* Effect.flatMap(Accounts, (accounts) => accounts.login({ username: "upgrader", password }, client)).pipe(
        Effect.provide(accountsOn(db.url, { argon2: { ...cheap, timeCost: 2 } }))
      )
    }), 60_000)
})
