/**
 * The outbox's post deadline under TestClock: posts whose deadline has
 * passed while their channel's call is held are answered "no answer" by the
 * sweep (queued ones are dropped unsent), and the call's late outcome
 * answers only the posts still unanswered.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, TestClock } from "effect"
import type { PostOutcome } from "../../domain/Channel.ts"
import { NotAMember } from "../../domain/Errors.ts"
import { ChannelId, messageIdOf, UserId } from "../../domain/Ids.ts"
import { answerOnce, finish, makeExpire, sweepIntervalMs, type Waiting } from "../../src/messaging/PostDeadline.ts"
import type { PostResult } from "../../src/messaging/PostResult.ts"

const channelId = ChannelId.make("c_deadline")
const alice = UserId.make("alice")

describe("PostDeadline", () => {
  it.effect("answers each post once: late ones when the sweep runs after their deadline, the rest with the call's outcome", () =>
    Effect.gen(function*() {
      const answers: Array<readonly [string, PostResult]> = []
      const waiting = (id: string, deadline: number): Waiting => ({
        item: { authorId: alice, clientMsgId: id, body: id },
        done: (result) => void answers.push([id, result]),
        deadline,
        answered: false
      })
      const answer = answerOnce(() => {})
      const expire = makeExpire(yield* Effect.clock, 1000, answer)
      const batch = [waiting("a", 1000), waiting("b", 1200)]
      const queue = [waiting("c", 1500), waiting("d", 3000)]
      const inFlight = new Map([[channelId, batch]])
      const queues = new Map([[channelId, queue]])

      yield* TestClock.adjust(999)
      expire(inFlight, queues)
      expect(answers).toEqual([])
      yield* TestClock.adjust(1)
      expire(inFlight, queues)
      expect(answers.map(([id]) => id)).toEqual(["a"])
      const [, late] = answers[0]!
      expect(Either.isLeft(late) && late.left._tag === "ChannelUnavailable" && late.left.reason).toBe(
        "no answer within 1 s; a retry with the same clientMsgId is safe"
      )
      yield* TestClock.adjust(500)
      expire(inFlight, queues)
      expect(answers.map(([id]) => id)).toEqual(["a", "b", "c"])
      // c was never sent: it left the queue; d is still waiting for its turn.
      expect(queue.map((w) => w.item.clientMsgId)).toEqual(["d"])

      // The held call commits both batch items; they were answered already and are not answered again.
      const accepted = (seq: number, id: string): PostOutcome => ({
        _tag: "Accepted",
        duplicate: false,
        message: { id: messageIdOf(channelId, seq), channelId, seq, authorId: alice, body: id, clientMsgId: id, createdAt: 0 }
      })
      finish(answer, channelId, batch, Exit.succeed([accepted(1, "a"), accepted(2, "b")]))
      expect(answers.map(([id]) => id)).toEqual(["a", "b", "c"])
      expect(batch.every((w) => w.answered)).toBe(true)
    }))

  it.effect("a call that answers in time answers every post of its batch with its own outcome", () =>
    Effect.sync(() => {
      const answers: Array<PostResult> = []
      const w: Waiting = {
        item: { authorId: alice, clientMsgId: "x", body: "x" },
        done: (r) => void answers.push(r),
        deadline: 1000,
        answered: false
      }
      const rejected: PostOutcome = { _tag: "Rejected", error: new NotAMember({ channelId, userId: alice }) }
      finish(answerOnce(() => {}), channelId, [w], Exit.succeed([rejected]))
      expect(answers).toHaveLength(1)
      expect(Either.isLeft(answers[0]!) && answers[0]!.left._tag).toBe("NotAMember")
    }))

  it("sweeps a tenth of the deadline apart, between 10 ms and 1 s", () => {
    expect(sweepIntervalMs(10_000)).toBe(1000)
    expect(sweepIntervalMs(300)).toBe(30)
    expect(sweepIntervalMs(50)).toBe(10)
  })
})
