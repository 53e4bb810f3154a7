/**
 * The outbox's post deadline under TestClock: posts whose deadline passes
 * while their channel's call is held are answered "no answer" at that moment
 * (queued ones are dropped unsent), and the call's late outcome answers only
 * the posts still unanswered.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Either, Fiber, TestClock } from "effect"
import type { PostOutcome } from "../../domain/Channel.ts"
import { NotAMember } from "../../domain/Errors.ts"
import { ChannelId, messageIdOf, UserId } from "../../domain/Ids.ts"
import { answerOnce, makeSettle, type Waiting } from "../../src/messaging/PostDeadline.ts"
import type { PostFailure, PostResult } from "../../src/messaging/PostResult.ts"

const channelId = ChannelId.make("c_deadline")
const alice = UserId.make("alice")

describe("PostDeadline", () => {
  it.effect("answers each post once: at its deadline while the call is held, or with the call's outcome", () =>
    Effect.gen(function*() {
      const answers: Array<readonly [string, PostResult]> = []
      const waiting = (id: string, deadline: number): Waiting => ({
        item: { authorId: alice, clientMsgId: id, body: id },
        done: (result) => void answers.push([id, result]),
        deadline,
        answered: false
      })
      const settle = makeSettle(yield* Effect.clock, 1000, answerOnce(() => {}))
      const reply = yield* Deferred.make<ReadonlyArray<PostOutcome>, PostFailure>()
      const call = yield* Effect.fork(Deferred.await(reply))
      const batch = [waiting("a", 1000), waiting("b", 1200)]
      const queue = [waiting("c", 1500), waiting("d", 3000)]
      const settling = yield* Effect.fork(settle(channelId, batch, queue, call))

      yield* TestClock.adjust(999)
      expect(answers).toEqual([])
      yield* TestClock.adjust(1)
      expect(answers.map(([id]) => id)).toEqual(["a"])
      const [, late] = answers[0]!
      expect(Either.isLeft(late) && late.left._tag === "ChannelUnavailable" && late.left.reason).toBe(
        "no answer within 1 s; a retry with the same clientMsgId is safe"
      )
      yield* TestClock.adjust(500)
      expect(answers.map(([id]) => id)).toEqual(["a", "b", "c"])
      // c was never sent: it left the queue; d is still waiting for its turn.
      expect(queue.map((w) => w.item.clientMsgId)).toEqual(["d"])

      // The held call commits both batch items; they were answered already and are not answered again.
      const accepted = (seq: number, id: string): PostOutcome => ({
        _tag: "Accepted",
        duplicate: false,
        message: { id: messageIdOf(channelId, seq), channelId, seq, authorId: alice, body: id, clientMsgId: id, createdAt: 0 }
      })
      yield* Deferred.succeed(reply, [accepted(1, "a"), accepted(2, "b")])
      yield* Fiber.join(settling)
      expect(answers.map(([id]) => id)).toEqual(["a", "b", "c"])
      expect(batch.every((w) => w.answered)).toBe(true)
    }))

  it.effect("a call that answers in time answers every post of its batch with its own outcome", () =>
    Effect.gen(function*() {
      const answers: Array<PostResult> = []
      const w: Waiting = {
        item: { authorId: alice, clientMsgId: "x", body: "x" },
        done: (r) => void answers.push(r),
        deadline: 1000,
        answered: false
      }
      const settle = makeSettle(yield* Effect.clock, 1000, answerOnce(() => {}))
      const rejected: PostOutcome = { _tag: "Rejected", error: new NotAMember({ channelId, userId: alice }) }
      const call = yield* Effect.fork(Effect.succeed([rejected]))
      yield* settle(channelId, [w], [], call)
      expect(answers).toHaveLength(1)
      expect(Either.isLeft(answers[0]!) && answers[0]!.left._tag).toBe("NotAMember")
    }))
})
