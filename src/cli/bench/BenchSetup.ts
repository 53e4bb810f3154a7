/**
 * What `plexichat bench` sets up through the typed RPCs before its load, and
 * takes down after it: `clients` member accounts `<runId>-u<i>` (a random
 * password each, never printed), each signed in once; `channels` public
 * channels `<runId>-c<j>`, created by the administrator and joined by every
 * bench account. Afterwards the bench accounts are disabled (which ends their
 * sessions); the channels and their messages stay.
 */
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"
import type { PlexiClient } from "../../client/PlexiClient.ts"
import { withClient } from "../Remote.ts"

type Client = PlexiClient["Type"]

export interface BenchUsers {
  readonly userIds: ReadonlyArray<UserId>
  readonly tokens: ReadonlyArray<string>
}

/** `call`, retried after the node's `retryAfterMs` while it answers `RateLimited` or `SignInLocked` (20 times at most). */
const patient = <A, E, R>(call: Effect.Effect<A, E, R>, attempt = 0): Effect.Effect<A, E, R> =>
  Effect.catchIf(
    call,
    (e): e is E => attempt < 20 && typeof e === "object" && e !== null && "retryAfterMs" in e && typeof e.retryAfterMs === "number",
    (e) => Effect.zipRight(Effect.sleep(Math.min(10_000, (e as { retryAfterMs: number }).retryAfterMs + 10)), patient(call, attempt + 1))
  )

/** Creates and signs in the bench accounts, 8 at a time. */
export const createUsers = (url: string, admin: Client, runId: string, count: number) =>
  Effect.forEach(Array.from({ length: count }, (_, i) => `${runId}-u${i}`), (username) =>
    Effect.gen(function*() {
      const password = randomBytes(24).toString("base64url")
      const account = yield* patient(admin.CreateAccount({ username, password, role: "member" }))
      const tokens = yield* withClient(url, undefined, (c) => patient(c.Login({ username, password, deviceName: "plexichat bench" })))
      return { userId: account.userId, token: tokens.accessToken }
    }), { concurrency: 8 }).pipe(Effect.map((made): BenchUsers => ({ userIds: made.map((m) => m.userId), tokens: made.map((m) => m.token) })))

/** Creates the channels as the administrator and has every bench account join each. */
export const createChannels = (url: string, admin: Client, runId: string, count: number, users: BenchUsers) =>
  Effect.gen(function*() {
    const channels: ReadonlyArray<ChannelId> = yield* Effect.forEach(
      Array.from({ length: count }, (_, j) => `${runId}-c${j}`),
      (name) => Effect.map(patient(admin.CreateChannel({ name })), (c) => c.id),
      { concurrency: 4 }
    )
    yield* Effect.forEach(users.tokens, (token) =>
      withClient(url, token, (c) => Effect.forEach(channels, (channelId) => patient(c.JoinChannel({ channelId })), { discard: true })), {
      concurrency: 8,
      discard: true
    })
    return channels
  })

/** Disables the bench accounts (ending their sessions); failures are ignored, the run's figures stand. */
export const disableUsers = (admin: Client, users: BenchUsers) =>
  Effect.forEach(users.userIds, (userId) => Effect.ignore(admin.DisableAccount({ userId })), { concurrency: 8, discard: true })
