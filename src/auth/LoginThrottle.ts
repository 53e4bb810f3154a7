/**
 * The login throttle and the per-address buckets (registration, refresh,
 * token-less WebAuthn options, OIDC starts), cluster-wide (their state
 * is in Postgres, `store/ThrottleRows.ts`; the rules in `LoginPolicy.ts`):
 * a sign-in is judged before its password is checked (delayed: `RateLimited`;
 * locked: `SignInLocked`), and its outcome is recorded after. Addresses count
 * as the connection limits count them (an IPv6 address per /64).
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Duration, Effect, Layer, Schedule } from "effect"
import { RateLimited, ServiceUnavailable } from "../../domain/Errors.ts"
import { SignInLocked } from "../../domain/LoginProtection.ts"
import { addressKey } from "../gateway/AddressKey.ts"
import type { TokenBucketOptions } from "../api/TokenBucket.ts"
import { bucketsOf, LoginThrottleConfig, policyOf } from "./LoginThrottleConfig.ts"
import type { LoginPolicy, Verdict } from "./LoginPolicy.ts"
import * as ThrottleRows from "./store/ThrottleRows.ts"
import { AuditLog } from "../audit/AuditLog.ts"
import { rateLimited } from "../observability/ChatMetrics.ts"

/**
 * One sign-in attempt the throttle admitted: its outcome goes back with
 * `failed` or `succeeded` (a password's), or `failedKey` (a security key's;
 * `user` is `''` when its credential named no account).
 */
export interface Ticket {
  readonly user: string
  readonly address: string
}

/** Keys are never empty (an empty one names the account's or the address's own row). */
export const userKey = (username: string) => `u:${username.toLowerCase()}`
const addrKey = (ip: string) => `a:${addressKey(ip)}`

const PURGE_EVERY = Duration.minutes(10)

/** The answer to a verdict: go on, or `RateLimited` (delayed), or `SignInLocked` (audited). */
const answerOf = (audit: AuditLog["Type"]) => (verdict: Verdict, target: string | null, ip: string): Effect.Effect<void, RateLimited | SignInLocked> => {
  switch (verdict._tag) {
    case "Allowed":
      return Effect.void
    case "Delayed":
      rateLimited.sign_in.update(1)
      return Effect.fail(new RateLimited({ retryAfterMs: verdict.retryAfterMs }))
    case "Locked":
      return Effect.zipRight(
        audit.record({ action: "auth.login_locked", target, ip, details: { scope: verdict.scope, retryAfterMs: verdict.retryAfterMs } }),
        Effect.fail(
          new SignInLocked({
            scope: verdict.scope,
            retryAfterMs: verdict.retryAfterMs,
            message: verdict.scope === "address"
              ? "too many failed sign-ins from this address; try again later"
              : "too many failed sign-ins of this account from this address; try again later, or ask an admin to unlock it"
          })
        )
      )
  }
}

/** Deletes the rows nothing depends on any more, every `PURGE_EVERY`, for as long as the scope lasts. */
const purgeEvery = (sql: SqlClient.SqlClient, policy: LoginPolicy, buckets: Readonly<Record<string, TokenBucketOptions>>) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.zipRight(
      ThrottleRows.purge(sql)(policy, now),
      Effect.forEach(Object.entries(buckets), ([name, options]) => ThrottleRows.purgeBuckets(sql)(name, options, now), { discard: true })
    )).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("login throttle purge failed", cause)),
      Effect.repeat(Schedule.spaced(PURGE_EVERY)),
      Effect.delay(PURGE_EVERY),
      Effect.forkScoped
    )

const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const config = yield* LoginThrottleConfig
  const audit = yield* AuditLog
  const policy = policyOf(config)
  /** Every per-address bucket by its name in `plexi_rate_buckets`. */
  const buckets = bucketsOf(config)

  const stored = <A>(effect: Effect.Effect<A, SqlError>) =>
    Effect.catchTag(effect, "SqlError", (error) =>
      Effect.zipRight(
        Effect.logError("login throttle store failed", error),
        Effect.fail(new ServiceUnavailable({ reason: "account store unavailable" }))
      ))

  const bucket = (name: string, options: TokenBucketOptions, ip: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(stored(ThrottleRows.takeBucket(sql)(name, addrKey(ip), options, now)), (waitMs) =>
        waitMs === 0 ? Effect.void : (rateLimited.sign_in.update(1), Effect.fail(new RateLimited({ retryAfterMs: waitMs })))))

  const admit = (username: string, ip: string): Effect.Effect<Ticket, RateLimited | SignInLocked | ServiceUnavailable> =>
    Effect.gen(function*() {
      yield* bucket("login", buckets.login, ip)
      const ticket: Ticket = { user: userKey(username), address: addrKey(ip) }
      const now = yield* Clock.currentTimeMillis
      yield* answer(yield* stored(ThrottleRows.admit(sql)(ticket.user, ticket.address, policy, now)), username, ip)
      return ticket
    })

  /**
   * A sign-in by a security key, of the account `username` names (undefined
   * when its credential names none): the address's sign-in bucket, then
   * judged by the same rows as a password attempt, but not reserved; only its
   * failure is counted (`failedKey`), so its success clears no count it did
   * not make.
   */
  const admitKey = (username: string | undefined, ip: string): Effect.Effect<Ticket, RateLimited | SignInLocked | ServiceUnavailable> =>
    Effect.gen(function*() {
      yield* bucket("login", buckets.login, ip)
      const ticket: Ticket = { user: username === undefined ? "" : userKey(username), address: addrKey(ip) }
      const now = yield* Clock.currentTimeMillis
      yield* answer(yield* stored(ThrottleRows.judgeOnly(sql)(ticket.user, ticket.address, policy, now)), username ?? null, ip)
      return ticket
    })

  /** A refused security key: counted as a wrong password is (the account's pair and count too, when one is named). */
  const failedKey = (ticket: Ticket) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => stored(ThrottleRows.failedUnreserved(sql)(ticket.user, ticket.address, policy, now)))

  const failed = (ticket: Ticket) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => stored(ThrottleRows.failed(sql)(ticket.user, ticket.address, policy, now)))

  const succeeded = (ticket: Ticket) => stored(ThrottleRows.succeeded(sql)(ticket.user, ticket.address))

  const unlock = (username: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => stored(ThrottleRows.unlock(sql)(userKey(username), now)))

  const answer = answerOf(audit)
  yield* purgeEvery(sql, policy, buckets)

  return {
    admit,
    admitKey,
    failedKey,
    failed,
    succeeded,
    unlock,
    /** One registration from `ip`, or `RateLimited` past the per-address budget. */
    register: (ip: string) => bucket("register", buckets.register, ip),
    /** One token refresh from `ip`, or `RateLimited` past the per-address budget. */
    refresh: (ip: string) => bucket("refresh", buckets.refresh, ip),
    /** One token-less WebAuthn sign-in options request from `ip` (it stores a challenge), or `RateLimited`. */
    webauthnOptions: (ip: string) => bucket("webauthn_options", buckets.webauthn_options, ip),
    /** One OpenID Connect sign-in start from `ip` (it stores a flow), or `RateLimited`. */
    oidcStart: (ip: string) => bucket("oidc_start", buckets.oidc_start, ip)
  } as const
})

export class LoginThrottle extends Context.Tag("plexichat/LoginThrottle")<LoginThrottle, Effect.Effect.Success<typeof make>>() {
  static readonly layer = Layer.scoped(LoginThrottle, make)
}
