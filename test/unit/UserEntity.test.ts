/**
 * The User entity through the in-process cluster over an in-memory PGlite:
 * creation on first sight, display names, the channels read from the memberships, and a profile
 * rebuilt from Postgres after passivation, and a short idle time.
 */
import { Sharding } from "@effect/cluster"
import { expect, layer } from "@effect/vitest"
import { Duration, Effect, Schedule } from "effect"
import { UserEntity } from "../../domain/User.ts"
import { userIdleTime } from "../../src/entities/UserEntity.ts"
import { channelClient, freshChannelId, user } from "../fixtures/ChannelHelpers.ts"
import { inMemoryCluster } from "../fixtures/InMemoryCluster.ts"

let users = 0
const freshUser = () => user(`u_${process.pid}_${users++}`)

// Short idle times for the Channel and the User entities alike: both are passivated at the cluster reaper's first look
// (every 5 s), so the rebuild test waits ~5 s, not ~10 s.
layer(inMemoryCluster({ sharding: { entityMaxIdleTime: "500 millis" }, userIdleTime: "500 millis" }), {
  excludeTestServices: true,
  timeout: "60 seconds"
})("UserEntity", (it) => {
  it.effect("Get creates the user on first sight with its id as display name; Upsert renames it", () =>
    Effect.gen(function*() {
      const client = yield* UserEntity.client
      const id = freshUser()
      const first = yield* client(id).Get({})
      expect(first).toMatchObject({ id, displayName: id, channels: [] })
      const renamed = yield* client(id).Upsert({ displayName: "Alice A." })
      expect(renamed.displayName).toBe("Alice A.")
      expect(renamed.createdAt).toBe(first.createdAt)
      // an Upsert without a name keeps the current one
      expect((yield* client(id).Upsert({})).displayName).toBe("Alice A.")
      expect((yield* client(id).Get({})).displayName).toBe("Alice A.")
    }))

  it.effect("Get lists the channels the user belongs to, as the channels record them, with no call to the user; the profile is rebuilt after passivation", () =>
    Effect.gen(function*() {
      const users = yield* UserEntity.client
      const channels = yield* channelClient
      const id = freshUser()
      const [c1, c2] = [freshChannelId("b"), freshChannelId("a")]
      yield* users(id).Upsert({ displayName: "Bob" })
      // memberships are committed by the channel, and only there
      yield* channels(c1).Create({ name: "one", visibility: "public", ownerId: id })
      yield* channels(c2).Create({ name: "two", visibility: "public", ownerId: user("someone") })
      yield* channels(c2).Join({ userId: id })
      yield* channels(c2).Join({ userId: id })
      expect((yield* users(id).Get({})).channels).toEqual([c1, c2].sort())

      yield* channels(c1).Leave({ userId: id })
      expect((yield* users(id).Get({})).channels).toEqual([c2])
      expect((yield* users(id).Upsert({})).channels).toEqual([c2])

      const sharding = yield* Sharding.Sharding
      yield* sharding.activeEntityCount.pipe(
        Effect.repeat({ schedule: Schedule.spaced("200 millis"), until: (n) => n === 0 }),
        Effect.timeoutFail({ duration: "15 seconds", onTimeout: () => new Error("entities never passivated") })
      )
      const rebuilt = yield* users(id).Get({})
      expect(rebuilt).toMatchObject({ id, displayName: "Bob", channels: [c2] })
    }), { timeout: 30_000 })
})

// The cluster's own idle time (a minute) for everything else: only the User entity's shorter one applies.
layer(inMemoryCluster(), { excludeTestServices: true, timeout: "60 seconds" })("UserEntity idle time", (it) => {
  it.effect("a User entity touched once (a sign-in) is passivated within userIdleTime plus the reaper's 5 s, not after a minute", () =>
    Effect.gen(function*() {
      const sharding = yield* Sharding.Sharding
      const id = freshUser()
      const started = Date.now()
      expect((yield* (yield* UserEntity.client)(id).Get({})).id).toBe(id)
      expect(yield* sharding.activeEntityCount).toBe(1)
      yield* sharding.activeEntityCount.pipe(
        Effect.repeat({ schedule: Schedule.spaced("200 millis"), until: (n) => n === 0 }),
        Effect.timeoutFail({ duration: "15 seconds", onTimeout: () => new Error("the User entity stayed active") })
      )
      const elapsed = Date.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(Duration.toMillis(userIdleTime))
      expect(elapsed).toBeLessThan(Duration.toMillis(userIdleTime) + 5_000 + 3_000)
    }), { timeout: 30_000 })
})
