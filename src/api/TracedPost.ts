/**
 * A post that was sampled for tracing (src/observability/Tracing.ts): the
 * same budget and outbox as `ChatService.submit`, as an Effect in a root
 * span `plexichat.post`, with the budget check as `plexichat.admit`; the
 * outbox continues the trace from the span it is handed.
 */
import { Effect, Either } from "effect"
import type { PostItem } from "../../domain/Channel.ts"
import type { ChannelId } from "../../domain/Ids.ts"
import type { PostOutbox, PostResult } from "../messaging/PostOutbox.ts"
import { postSpanName } from "../observability/Tracing.ts"
import type { UserBudgets } from "./UserBudgets.ts"

export const makeTracedPost = (budgets: UserBudgets["Type"], outbox: PostOutbox["Type"]) =>
  (userId: PostItem["authorId"], channelId: ChannelId, item: PostItem, done: (result: PostResult) => void) =>
    Effect.gen(function*() {
      const admitted = yield* Effect.either(budgets.takeEffect(userId, "post").pipe(Effect.withSpan("plexichat.admit")))
      if (Either.isLeft(admitted)) return done(Either.left(admitted.left))
      const span = yield* Effect.orDie(Effect.currentSpan)
      const result = yield* Effect.async<PostResult>((resume) => outbox.submit(channelId, item, (r) => resume(Effect.succeed(r)), span))
      yield* Effect.annotateCurrentSpan("plexichat.outcome", Either.isRight(result) ? "accepted" : result.left._tag)
      done(result)
    }).pipe(
      Effect.withSpan(postSpanName, { root: true, kind: "server", attributes: { "plexichat.channel_id": channelId } })
    )
