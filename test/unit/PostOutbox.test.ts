/**
 * The edge's post path (ChatService.submit through the PostOutbox) over an
 * in-process cluster whose Channel entity can be held: a channel whose call
 * is in flight queues at most `maxQueue` posts and refuses the next one at
 * once, and every queued post is answered once the call returns.
 *
 * Cluster timers never fire under TestClock, so every test runs live.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ChatService } from "../../src/api/ChatService.ts"
import { PostOutbox } from "../../src/messaging/PostOutbox.ts"
import type { PostResult } from "../../src/messaging/PostResult.ts"
import { channelClient, freshChannelId, user } from "../fixtures/ChannelHelpers.ts"
import { edgeStack, waitUntil } from "../fixtures/EdgeStack.ts"

const alice = user("alice")

type Result = PostResult

/** A Post gate: while closed, every Post call to the entity waits in `beforePost`. */
const makeGate = () => {
  const latch = Effect.unsafeMakeLatch(true)
  const state = { held: 0 }
  return {
    latch,
    state,
    hooks: {
      beforePost: () => Effect.zipRight(Effect.sync(() => state.held++), latch.await)
    }
  }
}

const publicChannel = Effect.gen(function*() {
  const client = yield* channelClient
  const channelId = freshChannelId()
  yield* client(channelId).Create({ name: "general", visibility: "public", ownerId: alice })
  return channelId
})

describe("PostOutbox", () => {
  it.live("past maxQueue posts waiting for one channel, a post fails at once with ChannelUnavailable \"channel busy\"; the queued ones all commit", () => {
    const gate = makeGate()
    return Effect.gen(function*() {
      // The outbox itself (ChatService.submit first takes a token of the user's post budget, which may wait for a lease).
      const outbox = yield* PostOutbox
      const channelId = yield* publicChannel
      yield* gate.latch.close
      const results = new Map<string, Result>()
      const submit = (id: string) => outbox.submit(channelId, { authorId: alice, clientMsgId: id, body: `body ${id}` }, (r) => void results.set(id, r))

      submit("p1")
      yield* waitUntil(() => expect(gate.state.held).toBe(1))
      for (const id of ["p2", "p3", "p4"]) submit(id)
      submit("p5")
      // Answered synchronously, without waiting for the held call.
      const busy = results.get("p5")
      expect(busy?._tag).toBe("Left")
      expect(busy?._tag === "Left" && busy.left._tag).toBe("ChannelUnavailable")
      expect(busy?._tag === "Left" && busy.left._tag === "ChannelUnavailable" && busy.left.reason).toContain("channel busy")
      expect(results.size).toBe(1)

      yield* gate.latch.open
      yield* waitUntil(() => expect(results.size).toBe(5))
      const seqOf = (id: string) => {
        const r = results.get(id)
        return r?._tag === "Right" ? r.right.seq : undefined
      }
      expect(["p1", "p2", "p3", "p4"].map(seqOf)).toEqual([1, 2, 3, 4])
      // One call for the held post, one batch for the three that waited.
      expect(gate.state.held).toBe(2)

      // The refused post, retried with the same clientMsgId, now commits.
      results.delete("p5")
      submit("p5")
      yield* waitUntil(() => expect(seqOf("p5")).toBe(5))
    }).pipe(Effect.provide(edgeStack({ hooks: gate.hooks, outbox: { maxQueue: 3 } })))
  })

  it.live("a post with no outcome within the post deadline is answered once with ChannelUnavailable \"no answer\"; the late commit is not answered again and a retry returns it", () => {
    const gate = makeGate()
    return Effect.gen(function*() {
      const chat = yield* ChatService
      const channelId = yield* publicChannel
      yield* gate.latch.close
      const results = new Map<string, Array<Result>>()
      const submit = (id: string) =>
        chat.submit(alice, channelId, id, `body ${id}`, (r) => void results.set(id, [...(results.get(id) ?? []), r]))

      submit("p1")
      yield* waitUntil(() => expect(gate.state.held).toBe(1))
      submit("p2")
      yield* waitUntil(() => expect(results.size).toBe(2))
      for (const id of ["p1", "p2"]) {
        const [answer, ...more] = results.get(id)!
        expect(more).toEqual([])
        expect(answer?._tag === "Left" && answer.left._tag).toBe("ChannelUnavailable")
        expect(answer?._tag === "Left" && answer.left._tag === "ChannelUnavailable" && answer.left.reason).toBe(
          "no answer within 0.3 s; a retry with the same clientMsgId is safe"
        )
      }

      // The held call goes through after its posts were answered: p1 commits, p2 (never sent) does not.
      yield* gate.latch.open
      const retried = new Map<string, Result>()
      for (const id of ["p1", "p2"]) chat.submit(alice, channelId, id, `body ${id}`, (r) => void retried.set(id, r))
      yield* waitUntil(() => expect(retried.size).toBe(2))
      const seqOf = (r: Result | undefined) => r?._tag === "Right" ? r.right.seq : undefined
      expect(seqOf(retried.get("p1"))).toBe(1)
      expect(seqOf(retried.get("p2"))).toBe(2)
      // The retries queued behind the late call, so its outcome has come and gone: p1 was answered once.
      expect(results.get("p1")).toHaveLength(1)
    }).pipe(Effect.provide(edgeStack({ hooks: gate.hooks, outbox: { postTimeoutMs: 300 } })))
  })
})
