/**
 * The frames of a session that are one ChatService call each, answered with
 * one reply frame: `history`, `remove_member` and `update_channel`. The
 * entity checks the caller's rights; the socket's address goes with the
 * request for the entity's audit entries. And `post`, answered by an `ack`.
 */
import { Effect, Either } from "effect"
import type { Channel } from "../../domain/Channel.ts"
import type { UserId } from "../../domain/Ids.ts"
import type { HistoryFrame, PostFrame, RemoveMemberFrame, UpdateChannelFrame } from "../../domain/Protocol.ts"
import type { Session } from "./Session.ts"

export type ChannelRequest = typeof HistoryFrame.Type | typeof RemoveMemberFrame.Type | typeof UpdateChannelFrame.Type

/** `frame` with the request's `ref`, when it had one. */
export const withRef = <F extends object>(frame: F, ref: string | undefined): F => ref === undefined ? frame : { ...frame, ref }

/** The socket's address, as the entity's audit entries record it. */
export const addressOf = (session: Session) => session.origin.address ?? session.origin.ip

export const answerRequest = (session: Session, userId: UserId, frame: ChannelRequest) => {
  const { chat } = session.ctx
  const ip = addressOf(session)
  const ref = frame.ref
  const channel = (channel: Channel) => session.send(withRef({ type: "channel" as const, channel }, ref))
  switch (frame.type) {
    case "history":
      return session.run(ref, Effect.map(chat.history(userId, frame.channelId, frame.afterSeq, frame.limit, ip), (messages) =>
        session.send(withRef({ type: "history" as const, channelId: frame.channelId, messages }, ref))))
    case "remove_member":
      return session.run(ref, Effect.map(chat.removeMember(userId, frame.channelId, frame.userId, ip), channel))
    case "update_channel": {
      const { channelId, ref: _ref, type: _type, ...changes } = frame
      return session.run(ref, Effect.map(chat.updateChannel(userId, channelId, changes, ip), channel))
    }
  }
}

/** The hot path: no fiber per message, the outbox calls back once committed. */
export const submitPost = (session: Session, userId: UserId, frame: typeof PostFrame.Type) => {
  const ref = frame.ref
  session.ctx.chat.submit(userId, frame.channelId, frame.clientMsgId, frame.body, (result) => {
    if (Either.isLeft(result)) return session.sendFailure(result.left, ref)
    const m = result.right
    session.send(withRef({
      type: "ack" as const,
      channelId: m.channelId,
      clientMsgId: frame.clientMsgId,
      id: m.id,
      seq: m.seq,
      createdAt: m.createdAt
    }, ref))
  })
}
