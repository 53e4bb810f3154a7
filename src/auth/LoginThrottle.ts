/**
 * The login throttle and the registration limit, cluster-wide (their state
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
import { bucketOf, LoginThrottleConfig, policyOf } from "./LoginThrottleConfig.ts"
import * as ThrottleRows from "./store/ThrottleRows.ts"
import { AuditLog } from "../audit/AuditLog.ts"

/** One sign-in attempt the throttle admitted: its outcome goes back with `failed` or `succeeded`. */
export interface Ticket {
  readonly user: string
  readonly address: string
}

/** Keys are never empty (an empty one names the account's or the address's own row). */
export const userKey = (username: string) => `u:${username.toLowerCase()}`
const addrKey = (ip: string) => `a:${addressKey(ip)}`

const PURGE_EVERY = Duration.minutes(10)

const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const config = yield* LoginThrottleConfig
  const audit = yield* AuditLog
  const policy = policyOf(config)
  const loginBucket = bucketOf(config.loginBurst, config.loginRefill)
  const registerBucket = bucketOf(config.registerBurst, config.registerRefill)
  const refreshBucket = bucketOf(config.refreshBurst, config.refreshRefill)

  const stored = <A>(effect: Effect.Effect<A, SqlError>) =>
    Effect.catchTag(effect, "SqlError", (error) =>
      Effect.zipRight(
        Effect.logError("login throttle store failed", error),
        Effect.fail(new ServiceUnavailable({ reason: "account store unavailable" }))
      ))

  const bucket = (name: string, options: typeof loginBucket, ip: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(stored(ThrottleRows.takeBucket(sql)(name, addrKey(ip), options, now)), (waitMs) =>
        waitMs === 0 ? Effect.void : Effect.fail(new RateLimited({ retryAfterMs: waitMs }))))

  const admit = (username: string, ip: string): Effect.Effect<Ticket, RateLimited | SignInLocked | ServiceUnavailable> =>
    Effect.gen(function*() {
      yield* bucket("login", loginBucket, ip)
      const ticket: Ticket = { user: userKey(username), address: addrKey(ip) }
      const now = yield* Clock.currentTimeMillis
      const verdict = yield* stored(ThrottleRows.admit(sql)(ticket.user, ticket.address, policy, now))
      switch (verdict._tag) {
        case "Allowed":
          return ticket
        case "Delayed":
          return yield* new RateLimited({ retryAfterMs: verdict.retryAfterMs })
        case "Locked":
          yield* audit.record({ action: "auth.login_locked", target: username, ip, details: { scope: verdict.scope, retryAfterMs: verdict.retryAfterMs } })
          return yield* new SignInLocked({
            scope: verdict.scope,
            retryAfterMs: verdict.retryAfterMs,
            message: verdict.scope === "address"
              ? "too many failed sign-ins from this address; try again later"
              : "too many failed sign-ins of this account from this address; try again later, or ask an admin to unlock it"
          })
      }
    })

  const failed = (ticket: Ticket) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => stored(ThrottleRows.failed(sql)(ticket.user, ticket.address, policy, now)))

  const succeeded = (ticket: Ticket) => stored(ThrottleRows.succeeded(sql)(ticket.user, ticket.address))

  const unlock = (username: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => stored(ThrottleRows.unlock(sql)(userKey(username), now)))

  yield* Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.zipRight(
      ThrottleRows.purge(sql)(policy, now),
      Effect.zipRight(
        ThrottleRows.purgeBuckets(sql)("login", loginBucket, now),
        Effect.zipRight(
          ThrottleRows.purgeBuckets(sql)("register", registerBucket, now),
          ThrottleRows.purgeBuckets(sql)("refresh", refreshBucket, now)
        )
      )
    )).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("login throttle purge failed", cause)),
      Effect.repeat(Schedule.spaced(PURGE_EVERY)),
      Effect.delay(PURGE_EVERY),
      Effect.forkScoped
    )

  return {
    admit,
    failed,
    succeeded,
    unlock,
    /** One registration from `ip`, or `RateLimited` past the per-address budget. */
    register: (ip: string) => bucket("register", registerBucket, ip),
    /** One token refresh from `ip`, or `RateLimited` past the per-address budget. */
    refresh: (ip: string) => bucket("refresh", refreshBucket, ip)
  } as const
})

export class LoginThrottle extends Context.Tag("plexichat/LoginThrottle")<LoginThrottle, Effect.Effect.Success<typeof make>>() {
  static readonly layer = Layer.scoped(LoginThrottle, make)
}
