/**
 * The edge's ChannelHub over an in-process cluster: a feed that falls behind
 * the Channel entity's sliding PubSub sees a seq gap and reopens from its last
 * seq without losing or repeating a message, an RPC subscriber that falls
 * `streamBuffer` messages behind is ended with `ChannelUnavailable`, and an
 * attach whose channel does not answer fails within the attach timeout.
 *
 * Cluster timers never fire under TestClock, so every test runs live.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Exit, Fiber, Layer, Logger, LogLevel, Stream } from "effect"
import type { Message } from "../../domain/Channel.ts"
import { ChannelUnavailable } from "../../domain/Errors.ts"
import { ChannelHub } from "../../src/messaging/ChannelHub.ts"
import { HubHooks } from "../../src/messaging/HubHooks.ts"
import { LocalChannels } from "../../src/messaging/LocalChannels.ts"
import { channelClient, freshChannelId, item, user } from "../fixtures/ChannelHelpers.ts"
import { edgeStack, makeFanOutRecord, range, seqs, waitUntil } from "../fixtures/EdgeStack.ts"

const alice = user("alice")

/** The Channel entity's live PubSub keeps this many chunks per follower (`PubSub.sliding(4096)`). */
const entityFeedCapacity = 4096

const publicChannel = Effect.gen(function*() {
  const client = yield* channelClient
  const channelId = freshChannelId()
  yield* client(channelId).Create({ name: "general", visibility: "public", ownerId: alice })
  return { channelId, channel: client(channelId) }
})

/** Posts `from..to`, one message per entity call (so one feed chunk each). */
const postEach = (
  channel: Effect.Effect.Success<typeof publicChannel>["channel"],
  from: number,
  to: number,
  concurrency = 1
) =>
  Effect.forEach(range(from, to), (n) => channel.Post({ items: [item("alice", `m${n}`, `message ${n}`)] }), {
    discard: true,
    concurrency
  })

/** `n` leave notices on a private channel (a non-member's Leave announces, fails NotAMember and writes nothing). */
const leaveNotices = (channel: Effect.Effect.Success<typeof publicChannel>["channel"], n: number) =>
  Effect.forEach(range(1, n), () => Effect.flip(channel.Leave({ userId: user("ghost") })), { discard: true, concurrency: 16 })

describe("ChannelHub", () => {
  it.live("a feed that falls behind the entity's sliding PubSub sees a seq gap, reopens from its last seq, and its subscribers get every message once, in order", () => {
    const record = makeFanOutRecord()
    const latch = Effect.unsafeMakeLatch(false)
    let armed = false
    let held = false
    const hooks = Layer.succeed(HubHooks, {
      beforeChunk: (_channelId, chunk) =>
        armed && !held && chunk.messages.length > 0 ? Effect.zipRight(Effect.sync(() => held = true), latch.await) : Effect.void
    })
    const logs: Array<unknown> = []
    const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void logs.push(message)))
    const rounds = 5
    const total = 2 + rounds + 3
    return Effect.gen(function*() {
      const hub = yield* ChannelHub
      const client = yield* channelClient
      const channelId = freshChannelId()
      const channel = client(channelId)
      yield* channel.Create({ name: "busy", visibility: "private", ownerId: alice })
      const caughtUp: Array<Message> = []
      const attached = yield* hub.attach(channelId, alice, 0, { deliver: (m) => void caughtUp.push(...m), follow: () => {}, wanted: () => true })
      const rpc = yield* hub.stream(channelId, alice, 0).pipe(Stream.take(total), Stream.runCollect, Effect.fork)

      yield* postEach(channel, 1, 1)
      yield* waitUntil(() => expect(seqs(record.published.get(channelId))).toEqual([1]))
      armed = true
      yield* postEach(channel, 2, 2)
      yield* waitUntil(() => expect(held).toBe(true))
      // The edge is stuck on seq 2 while more chunks than the PubSub holds are published: messages, and
      // (cheaper than commits) the leave notices a private channel publishes for each Leave.
      // The first few chunks after the held one still reach the edge's RPC buffer; the oldest of the rest are
      // dropped, and with them some messages.
      const notices = Math.ceil((entityFeedCapacity + 1500) / rounds / 2)
      for (let round = 0; round < rounds; round++) {
        yield* leaveNotices(channel, notices)
        yield* postEach(channel, 3 + round, 3 + round)
        yield* leaveNotices(channel, notices)
      }
      yield* postEach(channel, 3 + rounds, total)
      yield* latch.open

      yield* waitUntil(() => expect(seqs(record.published.get(channelId)).length).toBeGreaterThanOrEqual(total))
      expect(seqs(record.published.get(channelId))).toEqual(range(1, total))
      expect(caughtUp).toEqual([])
      expect(seqs(Chunk.toReadonlyArray(yield* Fiber.join(rpc)))).toEqual(range(1, total))
      expect(logs).toContainEqual(["channel feed reopening", { channelId, reason: "FeedGap" }])
      attached.release()
    }).pipe(
      Effect.provide(edgeStack({ record, hubContext: hooks, settings: { feedKeepAlive: Duration.seconds(60) } })),
      Effect.provide(capture),
      Logger.withMinimumLogLevel(LogLevel.Debug)
    )
  }, 240_000)

  it.live("an RPC subscriber that falls streamBuffer messages behind gets ChannelUnavailable \"subscriber too slow\" after what it had buffered", () => {
    const record = makeFanOutRecord()
    const latch = Effect.unsafeMakeLatch(false)
    return Effect.gen(function*() {
      const hub = yield* ChannelHub
      const { channel, channelId } = yield* publicChannel
      yield* postEach(channel, 1, 1)
      const got: Array<Message> = []
      // The consumer stops at the first live message (seq 2) and pulls nothing more until the latch opens.
      const consumer = yield* hub.stream(channelId, alice, 0).pipe(
        Stream.runForEach((m) => Effect.zipRight(Effect.sync(() => got.push(m)), m.seq === 2 ? latch.await : Effect.void)),
        Effect.fork
      )
      yield* waitUntil(() => expect(seqs(got)).toEqual([1]))
      yield* postEach(channel, 2, 2)
      yield* waitUntil(() => expect(seqs(got)).toEqual([1, 2]))
      // Four fit in its buffer; the fifth is one too many.
      yield* postEach(channel, 3, 7)
      // The feed opened after seq 1 was posted; the hub hands each chunk to the FanOut and its listeners together.
      yield* waitUntil(() => expect(seqs(record.published.get(channelId))).toEqual(range(2, 7)))
      yield* latch.open
      const exit = yield* Fiber.await(consumer)
      expect(seqs(got)).toEqual(range(1, 6))
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? exit.cause.toJSON() : undefined
      expect(JSON.stringify(error)).toContain("subscriber too slow")
      expect(JSON.stringify(error)).toContain("ChannelUnavailable")
    }).pipe(Effect.provide(edgeStack({ record, hub: { streamBuffer: 4 } })))
  })

  it.live("an attach to a channel that does not exist fails ChannelNotFound and holds no feed; once the channel exists an attach follows it, and its release closes the feed", () => {
    const record = makeFanOutRecord()
    return Effect.gen(function*() {
      const hub = yield* ChannelHub
      const client = yield* channelClient
      const channelId = freshChannelId()
      const follower = { deliver: () => {}, follow: () => {}, wanted: () => true }
      const missing = yield* Effect.flip(hub.attach(channelId, alice, undefined, follower))
      expect(missing._tag).toBe("ChannelNotFound")
      yield* waitUntil(() => expect(hub.feeds()).toBe(0))

      yield* client(channelId).Create({ name: "late", visibility: "public", ownerId: alice })
      const attached = yield* hub.attach(channelId, alice, undefined, follower)
      expect(attached.head).toBe(0)
      expect(hub.feeds()).toBe(1)
      yield* client(channelId).Post({ items: [item("alice", "m1")] })
      yield* waitUntil(() => expect(seqs(record.published.get(channelId))).toEqual([1]))
      attached.release()
      attached.release()
      yield* waitUntil(() => expect(hub.feeds()).toBe(0))
      // The feed's fiber ended too: nothing follows the entity any longer (it once ran on, uninterruptible).
      const local = yield* LocalChannels
      yield* waitUntil(() => expect(local.get(channelId)?.followed()).toBe(false))
    }).pipe(Effect.provide(edgeStack({ record })))
  })

  it.live("closeAll stops every feed at once: the entities it followed are no longer followed, and a later attach is refused", () =>
    Effect.gen(function*() {
      const hub = yield* ChannelHub
      const local = yield* LocalChannels
      const follower = { deliver: () => {}, follow: () => {}, wanted: () => true }
      const channels = yield* Effect.forEach(range(1, 20), () => Effect.map(publicChannel, (c) => c.channelId))
      yield* Effect.forEach(channels, (channelId) => hub.attach(channelId, alice, undefined, follower), { concurrency: 20 })
      expect(channels.every((channelId) => local.get(channelId)?.followed())).toBe(true)

      yield* hub.closeAll.pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("closeAll hung") }))
      yield* waitUntil(() => expect(channels.filter((channelId) => local.get(channelId)?.followed())).toEqual([]), 5_000)
      const refused = yield* Effect.flip(hub.attach(channels[0]!, alice, undefined, follower))
      expect(refused).toMatchObject({ _tag: "ChannelUnavailable", reason: "node shutting down" })
    }).pipe(Effect.provide(edgeStack())))

  it.live("an attach whose reader check gets no answer fails ChannelUnavailable within the attach timeout and holds no feed", () => {
    let hold = false
    return Effect.gen(function*() {
      const hub = yield* ChannelHub
      const { channelId } = yield* publicChannel
      hold = true
      const exit = yield* Effect.exit(hub.attach(channelId, alice, 0, { deliver: () => {}, wanted: () => true, follow: () => {} }))
      hold = false
      expect(exit).toEqual(Exit.fail(new ChannelUnavailable({ channelId, reason: "the reader check had no answer" })))
      yield* waitUntil(() => expect(hub.feeds()).toBe(0))
      // With the channel answering again, the same subscriber attaches.
      const attached = yield* hub.attach(channelId, alice, 0, { deliver: () => {}, wanted: () => true, follow: () => {} })
      attached.release()
    }).pipe(Effect.provide(edgeStack({
      hub: { attachTimeoutMs: 300 },
      hooks: { beforePost: () => Effect.void, beforeRead: (rpc) => rpc === "CheckReader" && hold ? Effect.never : Effect.void }
    })))
  })
})
