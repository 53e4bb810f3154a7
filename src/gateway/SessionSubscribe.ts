/**
 * `subscribe` and `unsubscribe` of one session: attaches to the edge's feed
 * of the channel through the hub, delivers the catch-up directly (ahead of
 * live messages) and joins the channel's uWS topic when the hub says so.
 */
import { Effect } from "effect"
import type { ChannelId, UserId } from "../../domain/Ids.ts"
import { addressOf } from "./ChannelRequests.ts"
import { encodeMessageFrame, topicOf } from "./ServerFrames.ts"
import type { Session } from "./Session.ts"
import { framesOut } from "../observability/ChatMetrics.ts"

/** Ends a session's subscription to a channel (unsubscribe, leaving a private channel). */
export const dropSubscription = (session: Session, channelId: ChannelId): boolean => {
  const { subscriptions } = session.ctx
  const sub = subscriptions.remove(session, channelId)
  if (sub === undefined) return false
  session.socket.unsubscribe(topicOf(channelId))
  // A pending attach sees it is no longer wanted, stops its catch-up and releases its own reference.
  sub.release?.()
  if (subscriptions.count(session) === 0) session.ctx.unwatch(session)
  return true
}

export const subscribe = (
  session: Session,
  userId: UserId,
  channelId: ChannelId,
  lastSeq: number | undefined,
  ref: string | undefined
) => {
  const { hub, subscriptions } = session.ctx
  const existing = subscriptions.get(session, channelId)
  if (existing !== undefined) {
    if (existing.release === undefined) {
      return session.sendError("invalid_frame", `a subscribe to channel ${channelId} is already in progress`, ref, {
        channelId
      })
    }
    // A fresh subscribe on a followed channel restarts it from the new lastSeq.
    dropSubscription(session, channelId)
  } else if (subscriptions.count(session) >= session.ctx.options.maxSubscriptions) {
    // Each new channel activates an entity: a socket follows a bounded number of them.
    const max = session.ctx.options.maxSubscriptions
    return session.sendError(
      "too_many_subscriptions",
      `this connection follows ${max} channels already (the most allowed); unsubscribe from one first`,
      ref,
      { channelId }
    )
  }
  const sub = subscriptions.add(session, channelId)
  session.ctx.watch(session)
  const current = () => !session.closed && subscriptions.get(session, channelId) === sub
  session.run(ref, hub.attach(channelId, userId, lastSeq, {
    wanted: current,
    deliver: (messages) => {
      if (!current()) return
      framesOut.message.update(messages.length)
      session.write(messages.map(encodeMessageFrame))
    },
    follow: () => {
      if (current()) session.socket.subscribe(topicOf(channelId))
    }
  }, addressOf(session)).pipe(
    Effect.tap(({ head, release }) =>
      Effect.sync(() => {
        // Closed, unsubscribed or revoked while attaching: give the reference back.
        if (!current()) return release()
        sub.release = release
        session.send({ type: "subscribed", channelId, head, ...(ref === undefined ? {} : { ref }) })
      })
    ),
    Effect.asVoid,
    Effect.catchAll((error) => {
      // A subscription dropped meanwhile has been answered already (unsubscribed, or the socket is gone):
      // its error is not sent.
      if (!current()) return Effect.void
      subscriptions.remove(session, channelId)
      // `follow` may already have joined the topic before the attach failed.
      session.socket.unsubscribe(topicOf(channelId))
      if (subscriptions.count(session) === 0) session.ctx.unwatch(session)
      return Effect.fail(error)
    })
  ))
}
