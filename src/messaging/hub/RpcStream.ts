/**
 * RPC streams: live messages for typed-RPC subscribers. Each stream attaches
 * like a WebSocket subscriber, then listens to the feed through a mailbox the
 * consumer may fall `streamBuffer` messages behind; past it the stream ends
 * with `ChannelUnavailable` ("subscriber too slow").
 */
import { Chunk, Effect, Exit, Mailbox, Option, Stream } from "effect"
import { ChannelEntity, type Message } from "../../../domain/Channel.ts"
import { ChannelUnavailable, NotAMember } from "../../../domain/Errors.ts"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"
import { ipField } from "../../api/ClientAddress.ts"
import { channelTransport } from "../ClusterTransport.ts"
import type { Failure, makeAttach } from "./Attach.ts"
import type { Feed, Listener } from "./Feed.ts"

type Attach = Effect.Effect.Success<ReturnType<typeof makeAttach>>

export interface RpcStreamOptions {
  readonly streamBuffer: number
}

const pageSize = 1000

export const makeRpcStream = Effect.fnUntraced(function*(attach: Attach, options: RpcStreamOptions) {
  const makeClient = yield* ChannelEntity.client

  const listenerOf = (channelId: ChannelId, readerId: UserId, mailbox: Mailbox.Mailbox<Message, Failure>): Listener => ({
    readerId,
    push: (messages) => {
      if ((mailbox.unsafeSize().pipe(Option.getOrElse(() => 0))) + messages.length > options.streamBuffer) {
        return void mailbox.unsafeDone(
          Exit.fail(new ChannelUnavailable({ channelId, reason: "subscriber too slow; resubscribe from the last seq" }))
        )
      }
      mailbox.unsafeOfferAll(messages)
    },
    revoke: () => mailbox.unsafeDone(Exit.fail(new NotAMember({ channelId, userId: readerId })))
  })

  /** Live messages after `lastSeq`, through `attach`. */
  const follow = (channelId: ChannelId, readerId: UserId, lastSeq: number | undefined, ip: string | undefined) =>
    Stream.unwrapScoped(Effect.gen(function*() {
      const mailbox = yield* Mailbox.make<Message, Failure>()
      let listening: { readonly feed: Feed; readonly listener: Listener } | undefined
      let release: (() => void) | undefined
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          listening?.feed.listeners.delete(listening.listener)
          release?.()
        })
      )
      // The attach may be interrupted (the consumer went away); once it succeeded, `release` is recorded in
      // the same uninterruptible step, so the finalizer always gives the reference back.
      yield* Effect.uninterruptibleMask((restore) =>
        restore(attach(channelId, readerId, lastSeq, {
          wanted: () => true,
          // The catch-up here is short (the pages before `follow` did the rest), so it is not limited.
          deliver: (messages) => void mailbox.unsafeOfferAll(messages),
          follow: (feed) => {
            const listener = listenerOf(channelId, readerId, mailbox)
            feed.listeners.add(listener)
            listening = { feed, listener }
          }
        }, ip)).pipe(Effect.tap((attached) =>
          Effect.sync(() => {
            release = attached.release
          })
        ))
      )
      return Mailbox.toStream(mailbox)
    }))

  /**
   * For RPC subscribers: the backlog after `lastSeq` in History pages, read
   * as the consumer pulls them, then `follow` from the last one.
   */
  const stream = (channelId: ChannelId, readerId: UserId, lastSeq: number | undefined, ip?: string): Stream.Stream<Message, Failure> => {
    if (lastSeq === undefined) return follow(channelId, readerId, undefined, ip)
    let last = lastSeq
    const backlog = Stream.paginateChunkEffect(lastSeq, (after) =>
      makeClient(channelId).History({ readerId, afterSeq: after, limit: pageSize, ...ipField(ip) }).pipe(
        channelTransport(channelId),
        Effect.map((page) => {
          if (page.length > 0) last = page[page.length - 1]!.seq
          return [Chunk.unsafeFromArray(page), page.length < pageSize ? Option.none() : Option.some(last)] as const
        })
      ))
    return Stream.concat(backlog, Stream.suspend(() => follow(channelId, readerId, last, ip)))
  }

  return stream
})
