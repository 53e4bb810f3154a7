/**
 * Behaviour of the sharded User entity: the profile, kept once read, and the
 * channels the user belongs to, read from the membership rows on every `Get`
 * (the channels are their source of truth, so creating, joining or leaving a
 * channel needs no call here). Sessions and real authentication are the
 * identity issue's; this entity is where they go.
 */
import { Entity } from "@effect/cluster"
import type { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Option } from "effect"
import { ServiceUnavailable } from "../../domain/Errors.ts"
import { UserId } from "../../domain/Ids.ts"
import { type Budget, type User, UserEntity } from "../../domain/User.ts"
import { type TokenBucket, takeUpTo } from "../api/TokenBucket.ts"
import { UserBudgetConfig } from "../api/UserBudgetConfig.ts"
import { MessageStore, type StoredProfile } from "../messaging/MessageStore.ts"

/**
 * How long a User entity with no request stays active. Its state is one
 * small query away (the profile, in Postgres), while
 * an active entity costs the cluster about 19 KiB of heap whatever it holds
 * (docs/BENCHMARKS.md, "Idle entities"); so a sign-in's entity goes soon
 * rather than after the cluster's minute. The cluster's reaper looks every
 * 5 s at the soonest, so an idle User entity is passivated 5–10 s after its
 * last request.
 */
export const userIdleTime = Duration.seconds(5)

const behaviour = Effect.gen(function*() {
  const address = yield* Entity.CurrentAddress
  const userId = UserId.make(address.entityId)
  const store = yield* MessageStore
  const budgets = yield* UserBudgetConfig
  const clock = yield* Effect.clock
  // One bucket per budget, full at activation: with burst / rate at most the idle time (5 s), an entity
  // passivated while idle would have refilled anyway, so passivation gives no extra tokens.
  const buckets = new Map<Budget, TokenBucket>()
  let cached: Option.Option<StoredProfile> = Option.none()

  const unavailable = (error: SqlError) =>
    Effect.zipRight(Effect.annotateLogs(Effect.logWarning("user store failed", error), { entityType: "User", entityId: userId }), Effect.fail(new ServiceUnavailable({ reason: "user store unavailable" })))

  /** The profile with the user's channels as they are now. */
  const withChannels = (profile: StoredProfile): Effect.Effect<User, ServiceUnavailable> =>
    store.channelsOf(userId).pipe(
      Effect.map((channels): User => ({ ...profile, channels })),
      Effect.catchAll(unavailable)
    )

  const upsert = (displayName: Option.Option<string>) =>
    store.upsertUser(userId, displayName).pipe(
      Effect.map((row): StoredProfile => ({ id: userId, displayName: row.display_name, createdAt: Number(row.created_at) })),
      Effect.catchAll(unavailable),
      Effect.tap((profile) => {
        cached = Option.some(profile)
      })
    )

  const profile: Effect.Effect<StoredProfile, ServiceUnavailable> = Effect.suspend(() =>
    Option.isSome(cached) ? Effect.succeed(cached.value) : store.loadProfile(userId).pipe(
      Effect.catchAll(unavailable),
      Effect.flatMap((found) => {
        if (Option.isNone(found)) return upsert(Option.none())
        cached = found
        return Effect.succeed(found.value)
      })
    )
  )

  return UserEntity.of({
    Upsert: ({ payload }) => Effect.flatMap(upsert(Option.fromNullable(payload.displayName)), withChannels),
    Get: () => Effect.flatMap(profile, withChannels),
    LeaseTokens: ({ payload }) =>
      Effect.sync(() => {
        const options = budgets[payload.budget]
        const now = clock.unsafeCurrentTimeMillis()
        let bucket = buckets.get(payload.budget)
        if (bucket === undefined) {
          bucket = { tokens: options.burst, refilledAt: now }
          buckets.set(payload.budget, bucket)
        }
        return takeUpTo(bucket, options, payload.want, now)
      })
  })
})

/** The User entity, passivated after `maxIdleTime` without a request (`userIdleTime`; benchmarks raise it). */
export const userEntityLayer = (maxIdleTime: Duration.DurationInput = userIdleTime) =>
  UserEntity.toLayer(behaviour, { maxIdleTime })

export const UserEntityLive = userEntityLayer()
