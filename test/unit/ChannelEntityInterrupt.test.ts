/**
 * A Post whose caller goes away (an interrupted client, as at a graceful
 * shutdown when the edge closes its sockets) while its rows are being
 * committed. The commit goes on in the group-commit flusher whatever the
 * caller does, so the entity must still account for it: the next Post gets
 * the next seq, never one that is already committed.
 */
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Cause, Deferred, Effect, Fiber, FiberRef, Schedule } from "effect"
import { accepted, channelClient, freshChannelId, item, storedMessages, user } from "../fixtures/ChannelHelpers.ts"
import { inMemoryCluster } from "../fixtures/InMemoryCluster.ts"

/** While set, every message INSERT waits for `open`; `reached` fires when one does. */
let hold: { readonly reached: Deferred.Deferred<void>; readonly open: Deferred.Deferred<void> } | undefined
/** The fiber of the last Post handler (the entity's own fiber, not the caller's). */
let handlerFiber: Fiber.RuntimeFiber<unknown, unknown> | undefined

const stack = inMemoryCluster({
  beforeInsert: () =>
    Effect.suspend(() => {
      const h = hold
      return h === undefined ? Effect.void : Effect.zipRight(Deferred.succeed(h.reached, undefined), Deferred.await(h.open))
    }),
  hooks: {
    beforePost: () =>
      Effect.withFiberRuntime<void>((fiber) => {
        handlerFiber = fiber
        return Effect.void
      })
  }
})

layer(stack, { excludeTestServices: true, timeout: "60 seconds" })("ChannelEntity interrupted Post", (it) => {
  describe("a Post interrupted while its write is in flight", () => {
    it.effect("leaves the entity's head at the committed seq: the next Post gets the next seq, not a duplicate", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const client = yield* channelClient
        const channelId = freshChannelId()
        const channel = client(channelId)
        yield* channel.Create({ name: "interrupts", visibility: "public", ownerId: user("alice") })
        yield* channel.Post({ items: [item("alice", "before")] })

        const gate = { reached: yield* Deferred.make<void>(), open: yield* Deferred.make<void>() }
        hold = gate
        const caller = yield* Effect.fork(channel.Post({ items: [item("alice", "lost-ack-1"), item("alice", "lost-ack-2")] }))
        yield* Deferred.await(gate.reached)
        const handler = handlerFiber!
        // The caller goes away; the entity's handler gets the interrupt while the INSERT is held.
        yield* Fiber.interrupt(caller)
        yield* Effect.sync(() => !Cause.isEmpty(handler.getFiberRef(FiberRef.interruptedCause))).pipe(
          Effect.repeat({ schedule: Schedule.spaced("5 millis"), until: (interrupted) => interrupted }),
          Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("the handler never saw the interrupt") })
        )
        hold = undefined
        yield* Deferred.succeed(gate.open, undefined)
        // the held rows commit anyway (seq 2 and 3)
        yield* storedMessages(sql, channelId).pipe(
          Effect.repeat({ schedule: Schedule.spaced("5 millis"), until: (rows) => rows.length === 3 }),
          Effect.timeout("5 seconds")
        )

        const next = yield* Effect.either(channel.Post({ items: [item("alice", "next")] }))
        // before the fix: ChannelUnavailable (the stale head wrote seq 2 again: duplicate key)
        expect(next._tag).toBe("Right")
        if (next._tag === "Right") expect(accepted(next.right[0]!).message.seq).toBe(4)
        // the retry of the interrupted post finds the original
        const [retry] = yield* channel.Post({ items: [item("alice", "lost-ack-2")] })
        expect(accepted(retry!)).toMatchObject({ duplicate: true, message: { seq: 3 } })
        expect((yield* storedMessages(sql, channelId)).map((m) => [m.seq, m.clientMsgId])).toEqual([
          [1, "before"],
          [2, "lost-ack-1"],
          [3, "lost-ack-2"],
          [4, "next"]
        ])
      }))
  })
})
