/**
 * The Channel entity's fiberless post from this node's edge
 * (src/entities/channel/DirectPost.ts): it takes a batch only when it can
 * answer it exactly like the Effect handler, and fails as its guards do.
 *
 * Runs live (cluster timers never fire under TestClock); each wait is a condition.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Deferred, Effect, Exit } from "effect"
import type { PostOutcome } from "../../domain/Channel.ts"
import { ChatService } from "../../src/api/ChatService.ts"
import type { PostExit } from "../../src/entities/channel/DirectPost.ts"
import { LocalChannels } from "../../src/messaging/LocalChannels.ts"
import type { PostResult } from "../../src/messaging/PostResult.ts"
import { channelClient, freshChannelId, item, storedMessages, user } from "../fixtures/ChannelHelpers.ts"
import { edgeStack, waitUntil } from "../fixtures/EdgeStack.ts"
import { makeInsertFaults } from "../fixtures/InsertFaults.ts"

const alice = user("alice")
const { faults, afterInsert } = makeInsertFaults()
/** While set, every INSERT completes `entered` and waits for `hold`. */
let hold: { readonly entered: Deferred.Deferred<void>; readonly release: Deferred.Deferred<void> } | undefined

const stack = edgeStack({
  beforeInsert: () =>
    Effect.suspend(() => hold === undefined ? Effect.void : Effect.zipRight(Deferred.succeed(hold.entered, void 0), Deferred.await(hold.release))),
  afterInsert
})

const createChannel = Effect.gen(function*() {
  const channelId = freshChannelId()
  yield* (yield* channelClient)(channelId).Create({ name: "direct", visibility: "public", ownerId: alice })
  const local = (yield* LocalChannels).get(channelId)
  expect(local).toBeDefined()
  return { channelId, local: local! }
})

/** Posts through the edge's outbox (the direct path when it can) and waits for the answer. */
const submit = (author: string, channelId: ReturnType<typeof freshChannelId>, clientMsgId: string) =>
  Effect.flatMap(ChatService, (chat) =>
    Effect.async<PostResult>((resume) => chat.submit(user(author), channelId, clientMsgId, `body of ${clientMsgId}`, (r) => resume(Effect.succeed(r)))))

const seqOf = (r: PostResult) => (r._tag === "Right" ? r.right.seq : r.left._tag)

layer(stack, { excludeTestServices: true, timeout: "60 seconds" })("DirectPost", (it) => {
  it.effect("takes a batch for a loaded channel, answers after the commit, and resolves a retry to the original from the window", () =>
    Effect.gen(function*() {
      const { channelId, local } = yield* createChannel
      const exits: Array<PostExit> = []
      expect(local.postDirect([item("alice", "a1"), item("alice", "a2"), item("alice", "a1")], (exit) => void exits.push(exit))).toBe(true)
      yield* waitUntil(() => expect(exits).toHaveLength(1))
      const sql = yield* SqlClient.SqlClient
      expect((yield* storedMessages(sql, channelId)).map((m) => m.seq)).toEqual([1, 2])
      const outcomes = Exit.isSuccess(exits[0]!) ? exits[0]!.value : []
      const seqs = (o: ReadonlyArray<PostOutcome>) => o.map((x) => x._tag === "Accepted" ? [x.message.seq, x.duplicate] : x._tag)
      expect(seqs(outcomes)).toEqual([[1, false], [2, false], [1, true]])
      // A retry of a committed post: answered from the window, nothing written.
      expect(local.postDirect([item("alice", "a2")], (exit) => void exits.push(exit))).toBe(true)
      expect(exits).toHaveLength(2)
      expect(seqs(Exit.isSuccess(exits[1]!) ? exits[1]!.value : [])).toEqual([[2, true]])
      expect(yield* storedMessages(sql, channelId)).toHaveLength(2)
    }))

  it.effect("says false while a serial handler holds the lane, and takes batches again once it is free", () =>
    Effect.gen(function*() {
      const { channelId, local } = yield* createChannel
      const held = { entered: yield* Deferred.make<void>(), release: yield* Deferred.make<void>() }
      hold = held
      const mailbox = yield* Effect.fork((yield* channelClient)(channelId).Post({ items: [item("alice", "held")] }))
      // The mailbox Post holds the lane while its INSERT waits.
      yield* Deferred.await(held.entered)
      expect(local.postDirect([item("alice", "probe")], () => {})).toBe(false)
      hold = undefined
      yield* Deferred.succeed(held.release, void 0)
      yield* mailbox
      const exits: Array<PostExit> = []
      expect(local.postDirect([item("alice", "after")], (exit) => void exits.push(exit))).toBe(true)
      yield* waitUntil(() => expect(exits).toHaveLength(1))
      expect(seqOf(yield* submit("alice", channelId, "after"))).toBe(2)
      const sql = yield* SqlClient.SqlClient
      expect((yield* storedMessages(sql, channelId)).map((m) => m.clientMsgId)).toEqual(["held", "after"])
    }))

  it.effect("a direct write whose answer was lost answers ChannelUnavailable and drops the state; the retry returns the original", () =>
    Effect.gen(function*() {
      const { channelId } = yield* createChannel
      expect(seqOf(yield* submit("alice", channelId, "m1"))).toBe(1)
      faults.loseNextAnswer = true
      expect(seqOf(yield* submit("alice", channelId, "m2"))).toBe("ChannelUnavailable")
      expect(seqOf(yield* submit("alice", channelId, "m2"))).toBe(2)
      expect(seqOf(yield* submit("alice", channelId, "m3"))).toBe(3)
      const sql = yield* SqlClient.SqlClient
      expect((yield* storedMessages(sql, channelId)).map((m) => m.seq)).toEqual([1, 2, 3])
    }))

  it.effect("a crash during a direct write that committed drops the state: the next post neither reuses the seq nor loses it", () =>
    Effect.gen(function*() {
      const { channelId } = yield* createChannel
      faults.crashAfterNextInsert = true
      expect(seqOf(yield* submit("alice", channelId, "c1"))).toBe("ChannelUnavailable")
      expect(seqOf(yield* submit("alice", channelId, "c2"))).toBe(2)
      expect(seqOf(yield* submit("alice", channelId, "c1"))).toBe(1)
    }))

  it.effect("a post by a non-member goes the Effect way and is refused NotAMember; nothing is written", () =>
    Effect.gen(function*() {
      const { channelId } = yield* createChannel
      expect(seqOf(yield* submit("mallory", channelId, "x1"))).toBe("NotAMember")
      expect(seqOf(yield* submit("alice", channelId, "ok"))).toBe(1)
      const sql = yield* SqlClient.SqlClient
      expect(yield* storedMessages(sql, channelId)).toHaveLength(1)
    }))

  it.effect("a batch whose row Postgres refuses goes to the Effect handler: only that item is rejected, the others commit gap-free", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`ALTER TABLE plexi_messages DROP CONSTRAINT IF EXISTS direct_refuses_poison`
      yield* sql.unsafe(`ALTER TABLE plexi_messages ADD CONSTRAINT direct_refuses_poison CHECK (body <> 'poison')`)
      const { channelId, local } = yield* createChannel
      const exits: Array<PostExit> = []
      expect(local.postDirect([item("alice", "p1"), item("alice", "p2", "poison"), item("alice", "p3")], (exit) => void exits.push(exit)))
        .toBe(true)
      yield* waitUntil(() => expect(exits).toHaveLength(1))
      const outcomes = Exit.isSuccess(exits[0]!) ? exits[0]!.value : []
      expect(outcomes.map((o) => o._tag === "Accepted" ? o.message.seq : o.error._tag)).toEqual([1, "InvalidRequest", 2])
      expect((yield* storedMessages(sql, channelId)).map((m) => m.clientMsgId)).toEqual(["p1", "p3"])
      expect(seqOf(yield* submit("alice", channelId, "p4"))).toBe(3)
      yield* sql`ALTER TABLE plexi_messages DROP CONSTRAINT direct_refuses_poison`
    }))
})
