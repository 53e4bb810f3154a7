/**
 * The live feed of one Channel entity (src/entities/channel/ChannelFeed.ts):
 * an idle channel holds no PubSub, no keep-alive fiber and no timer; the
 * first follower opens them and the last one to leave closes them; followers
 * get every commit after their backlog head, once and in order, and
 * keep-alives at the feed's interval (none while commits go out more
 * often). Taps (this node's edge) get the same chunks synchronously, with no
 * fiber or timer, and are ended when the entity stops.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Ref, Scope, Stream, TestClock } from "effect"
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
  /** A tap from `afterSeq` whose backlog pages take `backlogYields` scheduler turns each; close `scope` to leave. */
  const tap = (afterSeq: number | undefined, backlogYields = 0, push?: (chunk: FeedChunk) => void) =>
    Effect.gen(function*() {
      const chunks: Array<FeedChunk> = []
      const ended = { count: 0 }
      const scope = yield* Scope.make()
      const slowBetween = (st: Live, after: number, upTo: number, limit: number) =>
        Effect.zipRight(Effect.repeatN(Effect.yieldNow(), backlogYields), between(st, after, upTo, limit))
      const opening = yield* Effect.fork(Scope.extend(feed.tap(s, afterSeq, slowBetween, {
        push: (chunk) => {
          push?.(chunk)
          chunks.push(chunk)
        },
        end: () => void ended.count++
      }), scope))
      return { chunks, ended, scope, opening }
    })
  return { s, feed, commit, follower, tap, wakeUps }
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

  it.scoped("a channel that published within the keep-alive interval sends no keep-alive then", () =>
    Effect.gen(function*() {
      const { commit, follower } = yield* setup
      const { chunks } = yield* follower()
      yield* commit
      yield* TestClock.adjust(keepAliveMs - 1)
      yield* commit
      // The keep-alive fiber wakes at keepAliveMs: the last commit is 1 ms old.
      yield* TestClock.adjust(1)
      yield* settle
      expect(keepAlives(yield* Ref.get(chunks))).toEqual([])
      // A whole interval after the last commit, followers hear from the channel again.
      yield* TestClock.adjust(keepAliveMs)
      yield* settle
      expect(keepAlives(yield* Ref.get(chunks)).map((c) => c.head)).toEqual([2])
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

  it.scoped("a tap holds no fiber or timer and gets every commit after its backlog head, once and in order, while commits go on", () =>
    Effect.gen(function*() {
      const { commit, feed, tap, wakeUps } = yield* setup
      yield* Effect.replicateEffect(commit, 3)
      const committer = yield* Effect.fork(Effect.replicateEffect(Effect.zipRight(commit, Effect.yieldNow()), 200))
      const taps = []
      for (let k = 0; k < 8; k++) {
        yield* Effect.repeatN(Effect.yieldNow(), k * 7)
        // Slow backlogs: commits published meanwhile are held back, then handed over after the backlog.
        taps.push(yield* tap(k % 2 === 0 ? 0 : 2, k))
      }
      yield* Fiber.join(committer)
      yield* settle
      expect(feed.followed()).toBe(true)
      expect(yield* pendingSleeps).toBe(0)
      expect(wakeUps.count).toBe(0)
      for (const [k, t] of taps.entries()) {
        expect(seqsOf(t.chunks)).toEqual(Array.from({ length: 203 - (k % 2 === 0 ? 0 : 2) }, (_, i) => i + 1 + (k % 2 === 0 ? 0 : 2)))
        expect(t.chunks[0]!.messages).toEqual([])
      }
      for (const t of taps) yield* Scope.close(t.scope, Exit.void)
      expect(feed.followed()).toBe(false)
      yield* commit
      expect(taps.every((t) => seqsOf(t.chunks).at(-1) === 203)).toBe(true)
    }))

  it.scoped("a tap whose sink throws is ended; the entity's publish and the other followers go on", () =>
    Effect.gen(function*() {
      const { commit, follower, tap } = yield* setup
      const faulty = yield* tap(undefined, 0, (chunk) => {
        if (chunk.messages.some((m) => m.seq === 2)) throw new Error("sink bug")
      })
      const healthy = yield* tap(undefined)
      const stream = yield* follower()
      yield* settle
      yield* Effect.replicateEffect(commit, 4)
      yield* settle
      expect(faulty.ended.count).toBe(1)
      expect(seqsOf(faulty.chunks)).toEqual([1])
      expect(seqsOf(healthy.chunks)).toEqual([1, 2, 3, 4])
      expect(seqsOf(yield* Ref.get(stream.chunks))).toEqual([1, 2, 3, 4])
    }))

  it.effect("when the entity stops (the feed's scope closes) every tap is ended, once", () =>
    Effect.gen(function*() {
      const entityScope = yield* Scope.make()
      const { commit, tap } = yield* Scope.extend(setup, entityScope)
      const taps = [yield* tap(undefined), yield* tap(0)]
      yield* settle
      yield* commit
      yield* Scope.close(entityScope, Exit.void)
      for (const t of taps) {
        expect(t.ended.count).toBe(1)
        expect(seqsOf(t.chunks)).toEqual([1])
      }
    }))
})
