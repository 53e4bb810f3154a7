/**
 * Behaviour of the sharded User entity: the profile and the channels the
 * user belongs to, rebuilt from Postgres on activation. Sessions and real
 * authentication are the identity issue's; this entity is where they go.
 */
import { Entity } from "@effect/cluster"
import type { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Option } from "effect"
import { ServiceUnavailable } from "../../domain/Errors.ts"
import { type ChannelId, UserId } from "../../domain/Ids.ts"
import { type User, UserEntity } from "../../domain/User.ts"
import { MessageStore } from "../messaging/MessageStore.ts"

/**
 * How long a User entity with no request stays active. Its state is two
 * small queries away (the profile and the memberships, both in Postgres), while
 * an active entity costs the cluster about 19 KiB of heap whatever it holds
 * (docs/BENCHMARKS.md, "Idle entities"); so a sign-in's entity goes soon
 * rather than after the cluster's minute. The cluster's reaper looks every
 * 5 s at the soonest, so an idle User entity is passivated 5–10 s after its
 * last request.
 */
export const userIdleTime = Duration.seconds(5)

/**
 * `channels` (sorted, distinct) with `channelId` in (`member`) or out, still
 * sorted: a binary search and one copy, not a sort per change (a user who
 * creates thousands of channels would otherwise pay O(n log n) each time).
 * The same array when nothing changes.
 */
export const withMembership = (channels: ReadonlyArray<ChannelId>, channelId: ChannelId, member: boolean) => {
  let lo = 0
  let hi = channels.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (channels[mid]! < channelId) lo = mid + 1
    else hi = mid
  }
  if ((channels[lo] === channelId) === member) return channels
  const next = channels.slice()
  if (member) next.splice(lo, 0, channelId)
  else next.splice(lo, 1)
  return next
}

const behaviour = Effect.gen(function*() {
  const address = yield* Entity.CurrentAddress
  const userId = UserId.make(address.entityId)
  const store = yield* MessageStore
  let cached: Option.Option<User> = Option.none()

  const unavailable = (error: SqlError) =>
    Effect.zipRight(Effect.logWarning("user store failed", error), Effect.fail(new ServiceUnavailable({ reason: "user store unavailable" })))

  // loadUser returns a fresh profile: kept as it is, its channels sorted here (in JavaScript's order, which
  // `withMembership` relies on; Postgres's collation may order them otherwise).
  const reload = store.loadUser(userId).pipe(
    Effect.map(Option.map((u): User => ({ ...u, channels: [...u.channels].sort() }))),
    Effect.tap((u) => {
      cached = u
    }),
    Effect.catchAll(unavailable)
  )

  const upsert = (displayName: Option.Option<string>) =>
    store.upsertUser(userId, displayName).pipe(
      Effect.catchAll(unavailable),
      Effect.zipRight(reload),
      Effect.flatMap((u) => Effect.orDie(u))
    )

  const get: Effect.Effect<User, ServiceUnavailable> = Effect.suspend(() =>
    Option.isSome(cached) ? Effect.succeed(cached.value) : reload.pipe(
      Effect.flatMap((u) => Option.isSome(u) ? Effect.succeed(u.value) : upsert(Option.none()))
    )
  )

  const track = (channelId: ChannelId, member: boolean) =>
    Effect.map(get, (user): User => {
      const channels = withMembership(user.channels, channelId, member)
      if (channels === user.channels) return user
      const next = { ...user, channels }
      cached = Option.some(next)
      return next
    })

  return UserEntity.of({
    Upsert: ({ payload }) => upsert(Option.fromNullable(payload.displayName)),
    Get: () => get,
    TrackMembership: ({ payload }) => track(payload.channelId, payload.member)
  })
})

/** The User entity, passivated after `maxIdleTime` without a request (`userIdleTime`; benchmarks raise it). */
export const userEntityLayer = (maxIdleTime: Duration.DurationInput = userIdleTime) =>
  UserEntity.toLayer(behaviour, { maxIdleTime })

export const UserEntityLive = userEntityLayer()
