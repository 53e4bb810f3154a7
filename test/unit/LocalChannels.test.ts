/**
 * The direct path to the Channel entities running on this node
 * (src/messaging/LocalChannels.ts): posts and feeds of the edge skip the
 * cluster's transport for them, stay serialized with the entity's mailbox,
 * and keep the entity from being passivated while they use it.
 *
 * Cluster timers never fire under TestClock, so every test runs live.
 * Each stack (an in-memory PGlite and a runner) is built in its suite's
 * `layer`, before the tests and under the layer's own timeout: the first
 * PGlite of a worker compiles its WebAssembly and runs initdb, which took
 * ~10 s on a loaded machine and once, inside a test, used up its whole 30 s.
 * A test's own time is then only what it does, and its waits are conditions.
 */
import { Sharding } from "@effect/cluster"
import { expect, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { ChatService } from "../../src/api/ChatService.ts"
import { ChannelHub } from "../../src/messaging/ChannelHub.ts"
import { callCount, LocalChannels } from "../../src/messaging/LocalChannels.ts"
import type { PostResult } from "../../src/messaging/PostResult.ts"
import { channelClient, freshChannelId, item, user } from "../fixtures/ChannelHelpers.ts"
import { edgeStack, makeFanOutRecord, range, seqs, waitUntil } from "../fixtures/EdgeStack.ts"
import { makeStoreCalls } from "../fixtures/InMemoryCluster.ts"

const alice = user("alice")

/** How many calls took `path` for `rpc` so far (the counter is process-wide: compare before and after). */
const calls = (path: "local" | "cluster", rpc: "Post" | "Subscribe") => Effect.sync(() => callCount(path, rpc))

const createChannel = Effect.gen(function*() {
  const client = yield* channelClient
  const channelId = freshChannelId()
  yield* client(channelId).Create({ name: "general", visibility: "public", ownerId: alice })
  return { channelId, channel: client(channelId) }
})

const submitAll = (chat: ChatService["Type"], channelId: ReturnType<typeof freshChannelId>, ids: ReadonlyArray<string>) => {
  const results = new Map<string, PostResult>()
  for (const id of ids) chat.submit(alice, channelId, id, `body ${id}`, (r) => void results.set(id, r))
  return results
}

const seqOf = (r: PostResult | undefined) => (r?._tag === "Right" ? r.right.seq : undefined)

const record = makeFanOutRecord()

layer(edgeStack({ record }), { excludeTestServices: true, timeout: "60 seconds" })("LocalChannels", (it) => {
  it.effect("posts to a channel whose entity runs here go directly, and stay gap-free and unique alongside posts through the mailbox", () =>
    Effect.gen(function*() {
      const chat = yield* ChatService
      const { channelId, channel } = yield* createChannel
      // Created through the cluster: the entity now runs here and has registered itself.
      expect((yield* LocalChannels).get(channelId)).toBeDefined()
      const localBefore = yield* calls("local", "Post")
      const clusterBefore = yield* calls("cluster", "Post")

      const direct = submitAll(chat, channelId, range(1, 60).map((i) => `d${i}`))
      const mailbox = yield* Effect.forEach(range(1, 60), (i) => channel.Post({ items: [item("alice", `m${i}`, `m${i}`)] }), {
        concurrency: 8
      })
      yield* waitUntil(() => expect(direct.size).toBe(60))

      const all = [...Array.from(direct.values(), seqOf), ...mailbox.map((outcomes) => {
        const o = outcomes[0]!
        return o._tag === "Accepted" ? o.message.seq : undefined
      })]
      expect(all.sort((a, b) => a! - b!)).toEqual(range(1, 120))
      expect(yield* calls("local", "Post")).toBeGreaterThan(localBefore)
      expect(yield* calls("cluster", "Post")).toBe(clusterBefore)
    }))

  it.effect("a feed on this node follows the entity directly and delivers every message once, in order", () =>
    Effect.gen(function*() {
      const chat = yield* ChatService
      const hub = yield* ChannelHub
      const { channelId } = yield* createChannel
      const subscribesBefore = yield* calls("local", "Subscribe")
      const attached = yield* hub.attach(channelId, alice, 0, { deliver: () => {}, wanted: () => true, follow: () => {} })
      expect(yield* calls("local", "Subscribe")).toBe(subscribesBefore + 1)

      submitAll(chat, channelId, range(1, 40).map((i) => `f${i}`))
      yield* waitUntil(() => expect(seqs(record.published.get(channelId))).toEqual(range(1, 40)))
      attached.release()
    }))
})

/** Waits until the cluster has passivated every entity (the reaper looks every max(idle time, 5 s)). */
const allPassivated = Effect.flatMap(Sharding.Sharding, (sharding) =>
  sharding.activeEntityCount.pipe(
    Effect.repeat({ schedule: Schedule.spaced("200 millis"), until: (count) => count === 0 }),
    Effect.timeout("15 seconds")
  ))

const storeCalls = makeStoreCalls()

layer(edgeStack({ sharding: { entityMaxIdleTime: "1 second" }, calls: storeCalls }), {
  excludeTestServices: true,
  timeout: "60 seconds"
})("LocalChannels and passivation", (it) => {
  it.effect("an entity used only directly is kept active past its idle time, and passivated once unused; posts then reach it through the cluster", () =>
    Effect.gen(function*() {
      const chat = yield* ChatService
      const sharding = yield* Sharding.Sharding
      const { channelId } = yield* createChannel
      const loadsBefore = storeCalls.loadChannel
      const clusterPostsBefore = yield* calls("cluster", "Post")
      // The cluster's reaper looks every max(idle time, 5 s): post directly for longer than one look.
      let n = 0
      const posted = new Map<string, PostResult>()
      yield* Effect.sync(() => {
        const id = `k${++n}`
        chat.submit(alice, channelId, id, "keep", (r) => void posted.set(id, r))
      }).pipe(Effect.repeat({ schedule: Schedule.spaced("100 millis"), times: 70 }))
      expect(yield* sharding.activeEntityCount).toBeGreaterThan(0)
      yield* waitUntil(() => expect(posted.size).toBe(n))
      expect(Array.from(posted.values(), seqOf).sort((a, b) => a! - b!)).toEqual(range(1, n))
      // Never passivated meanwhile: not reloaded, and no post had to go through the cluster.
      expect(storeCalls.loadChannel).toBe(loadsBefore)
      expect(yield* calls("cluster", "Post")).toBe(clusterPostsBefore)

      // Unused now: passivated within a reaper look or two, and unregistered with it.
      yield* allPassivated
      expect((yield* LocalChannels).get(channelId)).toBeUndefined()
      const clusterBefore = yield* calls("cluster", "Post")
      const after = submitAll(chat, channelId, ["after"])
      yield* waitUntil(() => expect(seqOf(after.get("after"))).toBe(n + 1))
      expect(yield* calls("cluster", "Post")).toBe(clusterBefore + 1)
    }), { timeout: 60_000 })
})

const tapRecord = makeFanOutRecord()

layer(edgeStack({ record: tapRecord, sharding: { entityMaxIdleTime: "1 second" } }), {
  excludeTestServices: true,
  timeout: "60 seconds"
})("LocalChannels and feed taps", (it) => {
  it.effect("a feed opened through the cluster before its entity runs here switches to a tap once the entity registers, missing and repeating nothing", () =>
    Effect.gen(function*() {
      const chat = yield* ChatService
      const hub = yield* ChannelHub
      const { channelId } = yield* createChannel
      const first = submitAll(chat, channelId, ["first"])
      yield* waitUntil(() => expect(first.size).toBe(1))
      // Passivated: the next feed cannot be a tap.
      yield* allPassivated
      const clusterBefore = yield* calls("cluster", "Subscribe")
      const localBefore = yield* calls("local", "Subscribe")
      const attached = yield* hub.attach(channelId, alice, 0, { deliver: () => {}, wanted: () => true, follow: () => {} })
      expect(yield* calls("cluster", "Subscribe")).toBe(clusterBefore + 1)
      // The Subscribe activated the entity here; the feed reopens as a tap.
      yield* waitUntil(() => expect(Effect.runSync(calls("local", "Subscribe"))).toBe(localBefore + 1))
      submitAll(chat, channelId, range(2, 30).map((i) => `s${i}`))
      yield* waitUntil(() => expect(seqs(tapRecord.published.get(channelId))).toEqual(range(2, 30)))
      expect(yield* calls("cluster", "Subscribe")).toBe(clusterBefore + 1)
      attached.release()
    }), { timeout: 60_000 })
})
