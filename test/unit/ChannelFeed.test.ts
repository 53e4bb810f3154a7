/**
 * The live feed of one Channel entity (src/entities/channel/ChannelFeed.ts):
 * an idle channel holds no PubSub, no keep-alive fiber and no timer; the
 * first follower opens them and the last one to leave closes them; followers
 * get every commit after their backlog head, once and in order, and
 * keep-alives at the feed's interval.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Ref, Stream, TestClock } from "effect"
import type { FeedChunk, Message } from "../../domain/Channel.ts"
import { ChannelId, MessageId, UserId } from "../../domain/Ids.ts"
import { makeFeed } from "../../src/entities/channel/ChannelFeed.ts"
import { created, fromWindow, type Live, recordCommit } from "../../src/entities/channel/ChannelState.ts"

const channelId = ChannelId.make("feed")
const alice = UserId.make("alice")
const keepAliveMs = 1000
const limits = { windowSize: 512, dedupeMax: 100_000 }

const message = (seq: number): Message => ({
  id: MessageId.make(`${channelId}:${seq}`),
  channelId,
  seq,
  authorId: alice,
  body: `m${seq}`,
  clientMsgId: `m${seq}`,
  createdAt: 0
})

const setup = Effect.gen(function*() {
  const s: Live = created({
    id: channelId,
    name: "general",
    visibility: "public",
    createdBy: alice,
    createdAt: 0,
    members: [{ userId: alice, role: "owner" }]
  }, 1)
  // Counts the keep-alive fiber's wake-ups: it asks `live()` each time it wakes.
  const wakeUps = { count: 0 }
  const feed = yield* makeFeed({ bufferSize: 64, keepAliveMs }, () => {
    wakeUps.count++
    return true
  })
  /** Commits the next message as the Post handler does: the state first, then the feed. */
  const commit = Effect.suspend(() => {
    const m = message(s.head + 1)
    recordCommit(s, [m], limits)
    return feed.published(s.head, [m])
  })
  const between = (st: Live, after: number, upTo: number, limit: number) =>
    Effect.succeed(fromWindow(st, after, upTo, limit) ?? [])
  /** A follower from `afterSeq`, recording its chunks; interrupt the fiber to leave. */
  const follower = (afterSeq?: number) =>
    Effect.gen(function*() {
      const chunks = yield* Ref.make<ReadonlyArray<FeedChunk>>([])
      const opened = yield* Ref.make(false)
      const fiber = yield* Stream.unwrapScoped(Effect.tap(feed.follow(s, afterSeq, between), () => Ref.set(opened, true))).pipe(
        Stream.runForEach((chunk) => Ref.update(chunks, (all) => [...all, chunk])),
        Effect.fork
      )
      // Wait until the follower holds its subscription (it does before its stream starts).
      while (!(yield* Ref.get(opened))) yield* Effect.yieldNow()
      return { chunks, fiber }
    })
  return { s, feed, commit, follower, wakeUps }
})

const seqsOf = (chunks: ReadonlyArray<FeedChunk>) => chunks.flatMap((c) => c.messages.map((m) => m.seq))
const keepAlives = (chunks: ReadonlyArray<FeedChunk>) => chunks.filter((c, i) => i > 0 && c.messages.length === 0)
const settle = Effect.repeatN(Effect.yieldNow(), 20)
/** Timers pending on the TestClock, once forked fibers have run. */
const pendingSleeps = Effect.zipRight(settle, Effect.map(TestClock.sleeps(), Chunk.size))

describe("ChannelFeed", () => {
  it.scoped("a channel without followers holds no feed and no keep-alive timer, whatever it commits", () =>
    Effect.gen(function*() {
      const { commit, feed, wakeUps } = yield* setup
      yield* Effect.replicateEffect(commit, 4)
      expect(yield* pendingSleeps).toBe(0)
      yield* TestClock.adjust(10 * keepAliveMs)
      expect(feed.followed()).toBe(false)
      expect(wakeUps.count).toBe(0)
    }))

  it.scoped("the first follower opens the feed and its keep-alives, the last one to leave closes them", () =>
    Effect.gen(function*() {
      const { feed, follower, wakeUps } = yield* setup
      const first = yield* follower()
      expect(feed.followed()).toBe(true)
      expect(yield* pendingSleeps).toBe(1)
      const second = yield* follower()
      // One keep-alive fiber however many follow.
      expect(yield* pendingSleeps).toBe(1)

      yield* Fiber.interrupt(first.fiber)
      expect(feed.followed()).toBe(true)
      yield* TestClock.adjust(keepAliveMs)
      yield* settle
      expect(keepAlives(yield* Ref.get(second.chunks))).toHaveLength(1)

      yield* Fiber.interrupt(second.fiber)
      expect(feed.followed()).toBe(false)
      // No fiber wakes any more (an interrupted sleep stays in TestClock.sleeps, so count wake-ups).
      const woken = wakeUps.count
      yield* TestClock.adjust(10 * keepAliveMs)
      yield* settle
      expect(wakeUps.count).toBe(woken)
      // Following again opens a new feed.
      const third = yield* follower()
      expect(feed.followed()).toBe(true)
      yield* TestClock.adjust(keepAliveMs)
      yield* settle
      expect(keepAlives(yield* Ref.get(third.chunks))).toHaveLength(1)
    }))

  it.scoped("followers get a keep-alive every feedKeepAlive, in order with the commits, never ahead of them", () =>
    Effect.gen(function*() {
      const { commit, follower } = yield* setup
      const { chunks } = yield* follower()
      for (let round = 0; round < 5; round++) {
        yield* Effect.replicateEffect(commit, 2)
        yield* TestClock.adjust(keepAliveMs)
        yield* settle
      }
      const received = yield* Ref.get(chunks)
      expect(seqsOf(received)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      const alive = keepAlives(received)
      expect(alive.map((c) => c.head)).toEqual([2, 4, 6, 8, 10])
      // A keep-alive announces only what was already delivered.
      let delivered = 0
      for (const c of received) {
        if (c.messages.length > 0) delivered = c.messages[c.messages.length - 1]!.seq
        else expect(c.head).toBeLessThanOrEqual(delivered)
      }
    }))

  it.scoped("a follower opening while commits go on gets every commit after its backlog head, once and in order", () =>
    Effect.gen(function*() {
      const { commit, follower } = yield* setup
      const committer = yield* Effect.fork(Effect.replicateEffect(Effect.zipRight(commit, Effect.yieldNow()), 200))
      const followers = []
      for (let k = 0; k < 8; k++) {
        yield* Effect.repeatN(Effect.yieldNow(), k * 7)
        followers.push(yield* follower(0))
      }
      yield* Fiber.join(committer)
      yield* settle
      for (const f of followers) {
        const seqs = seqsOf(yield* Ref.get(f.chunks))
        expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
      }
    }))
})
