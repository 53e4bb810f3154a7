/**
 * The MFA part of the account service on real Postgres, with a clock the
 * test moves forward: a challenge ends after PLEXI_AUTH_MFA_CHALLENGE_TTL,
 * and TOTP secrets stay readable through a rotation of PLEXI_AUTH_MFA_KEYS
 * (re-sealed with the new first key when used) until their key is removed.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { Accounts } from "../../src/auth/Accounts.ts"
import { codeAt, stepAt } from "../../src/auth/mfa/TotpCodes.ts"
import { accountsOn, shiftedClock } from "../fixtures/AccountsLayer.ts"
import { realPostgres } from "../fixtures/TestDatabase.ts"

const client = { ip: "127.0.0.1", userAgent: "integration" }
const password = "a long and unusual passphrase"
const k1 = "k1=first-mfa-key-of-at-least-32-characters"
const k2 = "k2=second-mfa-key-of-at-least-32-characters"

/** The sealed secret and last step of `username`'s TOTP row. */
const totpRow = (username: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql<{ secret_sealed: string; last_used_step: string }>`SELECT t.secret_sealed, t.last_used_step FROM plexi_mfa_totp t
        JOIN plexi_accounts a ON a.user_id = t.user_id WHERE a.username = ${username}`,
      (rows) => ({ sealed: rows[0]!.secret_sealed, lastStep: Number(rows[0]!.last_used_step) })
    ))

/** Registers `username`, enrols and confirms TOTP at the clock's time; the base32 secret. */
const enrolled = (username: string) =>
  Effect.gen(function*() {
    const accounts = yield* Accounts
    const pair = yield* accounts.register({ username, password }, client)
    const caller = { userId: pair.userId, sessionId: pair.sessionId }
    const { secret } = yield* accounts.mfa.enrolTotp(caller)
    const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    yield* accounts.mfa.confirmTotp(caller, codeAt(secret, stepAt(now)))
    return secret
  })

/** Password step: the challenge of the `MfaRequired` failure. */
const challengeOf = (username: string) =>
  Effect.flatMap(Accounts, (accounts) =>
    Effect.map(Effect.flip(accounts.login({ username, password }, client)), (failure) => {
      expect(failure._tag).toBe("MfaRequired")
      return failure._tag === "MfaRequired" ? failure.challenge : ""
    }))

describe("MFA on real Postgres", () => {
  it.scopedLive("ends a challenge PLEXI_AUTH_MFA_CHALLENGE_TTL after the password step", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      const offset = { ms: 0 }
      yield* Effect.gen(function*() {
        const accounts = yield* Accounts
        const secret = yield* enrolled("waiter")
        const [early, late] = [yield* challengeOf("waiter"), yield* challengeOf("waiter")]
        offset.ms = 59_000
        const { lastStep } = yield* totpRow("waiter")
        const code = codeAt(secret, Math.max(lastStep + 1, stepAt(Date.now() + offset.ms)))
        expect((yield* accounts.mfa.complete({ challenge: early, code }, client)).username).toBe("waiter")
        offset.ms = 61_000
        const expired = yield* Effect.flip(
          accounts.mfa.complete({ challenge: late, code: codeAt(secret, stepAt(Date.now() + offset.ms) + 1) }, client)
        )
        expect(expired).toMatchObject({ _tag: "InvalidMfaChallenge", reason: "expired" })
      }).pipe(
        Effect.provide(accountsOn(db.url, { mfa: { challengeTtl: Duration.minutes(1) } })),
        Effect.withClock(shiftedClock(offset))
      )
    }), 60_000)

  it.scopedLive("re-seals a TOTP secret with the new first key when it is used, and refuses it once its key is gone", () =>
    Effect.gen(function*() {
      const db = yield* realPostgres
      const offset = { ms: 0 }
      const clock = Effect.withClock(shiftedClock(offset))
      const nextCode = (secret: string) => Effect.map(totpRow("rotor"), ({ lastStep }) => codeAt(secret, lastStep + 1))
      const signIn = (secret: string) =>
        Effect.gen(function*() {
          const challenge = yield* challengeOf("rotor")
          return yield* (yield* Accounts).mfa.complete({ challenge, code: yield* nextCode(secret) }, client)
        })

      const secret = yield* enrolled("rotor").pipe(Effect.provide(accountsOn(db.url, { mfaKeys: k1 })), clock)
      const sealedBy = (text: string) => text.split(".")[1]
      expect(sealedBy((yield* totpRow("rotor").pipe(Effect.provide(accountsOn(db.url, { mfaKeys: k1 })))).sealed)).toBe("k1")

      // Step 1 of a rotation: k2 first, k1 still listed. The k1 secret opens, and is re-sealed with k2.
      yield* signIn(secret).pipe(Effect.provide(accountsOn(db.url, { mfaKeys: `${k2},${k1}` })), clock)
      expect(sealedBy((yield* totpRow("rotor").pipe(Effect.provide(accountsOn(db.url, { mfaKeys: k2 })))).sealed)).toBe("k2")

      // k1 removed: the re-sealed secret still works (30 s later, the next step).
      offset.ms = 30_000
      yield* signIn(secret).pipe(Effect.provide(accountsOn(db.url, { mfaKeys: k2 })), clock)

      // A node with only the old key cannot open it: 503, logged, and nothing written.
      offset.ms = 60_000
      const before = yield* totpRow("rotor").pipe(Effect.provide(accountsOn(db.url, { mfaKeys: k1 })))
      const refused = yield* Effect.flip(signIn(secret)).pipe(Effect.provide(accountsOn(db.url, { mfaKeys: k1 })), clock)
      expect(refused).toMatchObject({ _tag: "ServiceUnavailable", reason: "second factor unavailable" })
      expect(yield* totpRow("rotor").pipe(Effect.provide(accountsOn(db.url, { mfaKeys: k1 })))).toEqual(before)
    }), 60_000)
})
