/**
 * The operations every front door shares (WebSocket frames, typed RPC and
 * REST): they validate the caller's rights through the entities and map
 * cluster transport failures to `ChannelUnavailable`.
 */
import { randomBytes } from "node:crypto"
import { Cause, Context, Effect, Either, Exit, Layer, Option } from "effect"
import { ChannelEntity, type Message, type Role, type Visibility } from "../../domain/Channel.ts"
import { ChannelUnavailable, type InvalidRequest, type NotAMember, type ServiceUnavailable } from "../../domain/Errors.ts"
import { ChannelId, type UserId } from "../../domain/Ids.ts"
import { type User, UserEntity } from "../../domain/User.ts"
import { channelTransport, serviceTransport } from "../messaging/ClusterTransport.ts"
import { type PostFailure, PostOutbox } from "../messaging/PostOutbox.ts"

export const newChannelId = (): ChannelId => ChannelId.make(`c_${randomBytes(9).toString("base64url")}`)

export class ChatService extends Context.Tag("plexichat/ChatService")<ChatService, Effect.Effect.Success<typeof make>>() {
  static readonly layer = Layer.effect(ChatService, Effect.suspend(() => make))
}

const make = Effect.gen(function*() {
  const channels = yield* ChannelEntity.client
  const users = yield* UserEntity.client
  const outbox = yield* PostOutbox

  /** Keeps the user's membership list in step; the channel is the source of truth, so failures are only logged. */
  const track = (userId: UserId, channelId: ChannelId, member: boolean) =>
    users(userId).TrackMembership({ channelId, member }).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("membership tracking failed", cause)),
      Effect.asVoid
    )

  const ensureUser = (userId: UserId, displayName: Option.Option<string>): Effect.Effect<User, ServiceUnavailable> =>
    users(userId).Upsert(Option.match(displayName, { onNone: () => ({}), onSome: (name) => ({ displayName: name }) }))
      .pipe(serviceTransport)

  /** The caller's profile; `Get` creates the user on first sight. */
  const me = (userId: UserId) => users(userId).Get({}).pipe(serviceTransport)

  const createChannel = (userId: UserId, name: string, visibility: Visibility) => {
    const channelId = newChannelId()
    return channels(channelId).Create({ name, visibility, ownerId: userId }).pipe(
      channelTransport(channelId),
      Effect.tap(() => track(userId, channelId, true))
    )
  }

  const join = (userId: UserId, channelId: ChannelId) =>
    channels(channelId).Join({ userId }).pipe(channelTransport(channelId), Effect.tap(() => track(userId, channelId, true)))

  const addMember = (actorId: UserId, channelId: ChannelId, userId: UserId, role: Role) =>
    channels(channelId).AddMember({ actorId, userId, role }).pipe(
      channelTransport(channelId),
      Effect.tap(() => track(userId, channelId, true))
    )

  const leave = (userId: UserId, channelId: ChannelId) =>
    channels(channelId).Leave({ userId }).pipe(channelTransport(channelId), Effect.tap(() => track(userId, channelId, false)))

  /**
   * `post` for callers outside Effect: `done` receives the committed message
   * (the original one for a retry) or the failure. No fiber per message.
   */
  const submit = (
    userId: UserId,
    channelId: ChannelId,
    clientMsgId: string,
    body: string,
    done: (result: Either.Either<Message, PostFailure | NotAMember | InvalidRequest>) => void
  ) =>
    outbox.submit(channelId, { authorId: userId, clientMsgId, body }, (exit) => {
      if (Exit.isSuccess(exit)) {
        done(exit.value._tag === "Accepted" ? Either.right(exit.value.message) : Either.left(exit.value.error))
      } else {
        const failure = Cause.failureOption(exit.cause)
        done(Either.left(Option.getOrElse(failure, () =>
          new ChannelUnavailable({ channelId, reason: "post interrupted" }))))
      }
    })

  const post = (userId: UserId, channelId: ChannelId, clientMsgId: string, body: string) =>
    Effect.async<Message, PostFailure | NotAMember | InvalidRequest>((resume) =>
      submit(userId, channelId, clientMsgId, body, (result) => resume(result))
    )

  const history = (userId: UserId, channelId: ChannelId, afterSeq: number, limit: number) => channels(channelId).History({ readerId: userId, afterSeq, limit }).pipe(channelTransport(channelId))

  return { ensureUser, me, createChannel, join, addMember, leave, post, submit, history } as const
})
