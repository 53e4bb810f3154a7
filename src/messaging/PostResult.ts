/**
 * The one mapping from what a `Post` call to a Channel entity can end with
 * (an outcome per item, a typed failure, a cluster transport failure, a
 * defect, an interruption, or no answer in time) to the typed result each
 * post gets. Every front door (WebSocket, RPC, REST) receives posts through it.
 */
import { Cause, Either, Option } from "effect"
import type { Message, PostOutcome } from "../../domain/Channel.ts"
import { type ChannelNotFound, ChannelUnavailable, type RateLimited } from "../../domain/Errors.ts"
import type { ChannelId } from "../../domain/Ids.ts"

/** Why a whole `Post` call failed: every item of its batch gets this. */
export type PostFailure = ChannelNotFound | ChannelUnavailable

/** Why one item was refused while the rest of its batch went on (a non-member, a row the store refused, …). */
export type ItemRefusal = Exclude<PostOutcome, { readonly _tag: "Accepted" }>["error"]

/**
 * What a post ends with: the committed message (the original one for a
 * retry) or why it was not (`RateLimited`: the user's post budget refused it
 * before it went anywhere).
 */
export type PostResult = Either.Either<Message, PostFailure | ItemRefusal | RateLimited>

/**
 * One item's outcome. Every refusal variant carries its typed error, so a new
 * variant (and its error) reaches the caller's typed mapping without a change here.
 */
export const fromOutcome = (outcome: PostOutcome): PostResult => {
  switch (outcome._tag) {
    case "Accepted":
      return Either.right(outcome.message)
    default:
      return Either.left(outcome.error)
  }
}

/**
 * A failed call, once `channelTransport` turned cluster transport failures (a
 * full mailbox, a duplicate in-flight request, message storage) into
 * `ChannelUnavailable`: typed failures pass through; defects and
 * interruptions become `ChannelUnavailable` too. Either way the post may or
 * may not have been committed, and a retry with the same clientMsgId is safe.
 */
export const fromCallFailure = (channelId: ChannelId, cause: Cause.Cause<PostFailure>): PostFailure =>
  Option.getOrElse(Cause.failureOption(cause), () =>
    new ChannelUnavailable({
      channelId,
      reason: Cause.isInterruptedOnly(cause)
        ? "post interrupted; a retry with the same clientMsgId is safe"
        : "channel call failed; a retry with the same clientMsgId is safe"
    }))

/** No outcome within the post deadline; the call may still commit later, which is why retries are idempotent. */
export const noAnswer = (channelId: ChannelId, timeoutMs: number) =>
  new ChannelUnavailable({
    channelId,
    reason: `no answer within ${timeoutMs / 1000} s; a retry with the same clientMsgId is safe`
  })

/** Too many posts already wait for this channel. */
export const channelBusy = (channelId: ChannelId) =>
  new ChannelUnavailable({ channelId, reason: "channel busy; retry with the same clientMsgId" })
