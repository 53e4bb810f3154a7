/**
 * The operations every front door shares (WebSocket frames, typed RPC and
 * REST): they validate the caller's rights through the entities and map
 * cluster transport failures to `ChannelUnavailable`. Posts go through the
 * PostOutbox, whose results are mapped in one place (`PostResult.ts`).
 * `ip` is the client's address as the door saw it, for the entity's audit
 * entries (clipped to the 64 characters the log keeps; absent when unknown).
 */
import { randomBytes } from "node:crypto"
import { Context, Effect, Either, Layer, Runtime } from "effect"
import { ChannelEntity, type ChannelSettings, type Message, type Role, type Visibility } from "../../domain/Channel.ts"
import { RateLimited } from "../../domain/Errors.ts"
import { ChannelId, type UserId } from "../../domain/Ids.ts"
import { UserEntity } from "../../domain/User.ts"
import { channelTransport, serviceTransport } from "../messaging/ClusterTransport.ts"
import { PostOutbox, type PostResult } from "../messaging/PostOutbox.ts"
import { ipField as origin } from "./ClientAddress.ts"
import { UserBudgets } from "./UserBudgets.ts"
import { rateLimited } from "../observability/ChatMetrics.ts"
import { samplePost } from "../observability/Tracing.ts"
import { makeTracedPost } from "./TracedPost.ts"

export const newChannelId = (): ChannelId => ChannelId.make(`c_${randomBytes(9).toString("base64url")}`)


export class ChatService extends Context.Tag("plexichat/ChatService")<ChatService, Effect.Effect.Success<typeof make>>() {
  static readonly layer = Layer.effect(ChatService, Effect.suspend(() => make))
}

const make = Effect.gen(function*() {
  const channels = yield* ChannelEntity.client
  const users = yield* UserEntity.client
  const outbox = yield* PostOutbox
  const budgets = yield* UserBudgets
  const runTraced = Runtime.runFork(yield* Effect.runtime<never>())
  const tracedPost = makeTracedPost(budgets, outbox)

  /** The caller's profile; `Get` creates the user on first sight. */
  const me = (userId: UserId) => users(userId).Get({}).pipe(serviceTransport)

  const createChannel = (userId: UserId, name: string, visibility: Visibility, ip?: string) => {
    const channelId = newChannelId()
    return channels(channelId).Create({ name, visibility, ownerId: userId, ...origin(ip) }).pipe(channelTransport(channelId))
  }

  /** Joins take from the user's cluster-wide join budget first. */
  const join = (userId: UserId, channelId: ChannelId, ip?: string) =>
    Effect.zipRight(budgets.takeEffect(userId, "join"), channels(channelId).Join({ userId, ...origin(ip) }).pipe(channelTransport(channelId)))

  const addMember = (actorId: UserId, channelId: ChannelId, userId: UserId, role: Role, ip?: string) =>
    channels(channelId).AddMember({ actorId, userId, role, ...origin(ip) }).pipe(channelTransport(channelId))

  const leave = (userId: UserId, channelId: ChannelId, ip?: string) =>
    channels(channelId).Leave({ userId, ...origin(ip) }).pipe(channelTransport(channelId))

  /** Removes `userId` from the channel (a kick by `actorId`). */
  const removeMember = (actorId: UserId, channelId: ChannelId, userId: UserId, ip?: string) =>
    channels(channelId).RemoveMember({ actorId, userId, ...origin(ip) }).pipe(channelTransport(channelId))

  /** "Manage channel": renames the channel and/or changes its visibility. */
  const updateChannel = (actorId: UserId, channelId: ChannelId, changes: ChannelSettings, ip?: string) =>
    channels(channelId).UpdateChannel({ actorId, changes, ...origin(ip) }).pipe(channelTransport(channelId))

  /**
   * `post` for callers outside Effect: `done` receives, exactly once and
   * within the outbox's post deadline, the committed message (the original
   * one for a retry) or why it was not committed. No fiber per message.
   */
  const submit = (
    userId: UserId,
    channelId: ChannelId,
    clientMsgId: string,
    body: string,
    done: (result: PostResult) => void
  ) =>
    samplePost() ? runTraced(tracedPost(userId, channelId, { authorId: userId, clientMsgId, body }, done)) : budgets.take(userId, "post", (waitMs) =>
      waitMs === 0
        ? outbox.submit(channelId, { authorId: userId, clientMsgId, body }, done)
        : (rateLimited.user_post.update(1), done(Either.left(new RateLimited({ retryAfterMs: waitMs })))))

  const post = (userId: UserId, channelId: ChannelId, clientMsgId: string, body: string) =>
    Effect.async<Message, Either.Either.Left<PostResult>>((resume) =>
      submit(userId, channelId, clientMsgId, body, (result) => resume(result))
    )

  const history = (userId: UserId, channelId: ChannelId, afterSeq: number, limit: number, ip?: string) =>
    channels(channelId).History({ readerId: userId, afterSeq, limit, ...origin(ip) }).pipe(channelTransport(channelId))

  return { me, createChannel, join, addMember, leave, removeMember, updateChannel, post, submit, history } as const
})
