/**
 * One RPC server protocol shared by two servers: the runner socket carries the cluster's own runner protocol and
 * the backup shard stores' (domain/ShardStoreRpcs.ts), so that node-to-node shard traffic uses the port, the
 * network and the trust of entity calls, with no second listener to secure. A protocol takes one server only (its
 * `run` is held by the first caller), so this one runs the socket's protocol itself and routes each client
 * connection to a side: a connection whose first request names a shard-store RPC belongs to `second`, every other
 * one to `first`. A connection never mixes the two (each RPC client opens its own), and messages before its first
 * request (pings) go to `first`, which answers them the same way.
 */
import { RpcServer } from "@effect/rpc"
import type { FromClientEncoded } from "@effect/rpc/RpcMessage"
import { Context, Effect, Layer, Mailbox } from "effect"

type Side = 0 | 1

export interface SplitProtocolShape {
  readonly first: RpcServer.Protocol["Type"]
  readonly second: RpcServer.Protocol["Type"]
}

export class SplitProtocol extends Context.Tag("plexichat/SplitProtocol")<SplitProtocol, SplitProtocolShape>() {}

/** Splits the `RpcServer.Protocol` in context; `isSecond(tag)` tells the second server's RPCs. */
export const make = (isSecond: (tag: string) => boolean) =>
  Effect.gen(function*() {
    const base = yield* RpcServer.Protocol
    const owners = new Map<number, Side>()
    const writes: Array<(clientId: number, message: FromClientEncoded) => Effect.Effect<void>> = []
    const disconnects = [yield* Mailbox.make<number>(), yield* Mailbox.make<number>()] as const
    const side = (i: Side) =>
      RpcServer.Protocol.make((write) => {
        writes[i] = write
        return Effect.succeed({
          disconnects: disconnects[i],
          send: base.send,
          end: base.end,
          clientIds: Effect.map(base.clientIds, (ids) => new Set(Array.from(ids).filter((id) => (owners.get(id) ?? 0) === i))),
          initialMessage: base.initialMessage,
          supportsAck: base.supportsAck,
          supportsTransferables: base.supportsTransferables,
          supportsSpanPropagation: base.supportsSpanPropagation
        })
      })
    const first = yield* side(0)
    const second = yield* side(1)
    yield* Effect.forkScoped(base.run((clientId, message) => {
      let owner = owners.get(clientId)
      if (owner === undefined && message._tag === "Request") {
        owner = isSecond(message.tag) ? 1 : 0
        owners.set(clientId, owner)
      }
      return writes[owner ?? 0]!(clientId, message)
    }))
    // Both sides hear of every disconnect: a side that never saw the client has nothing to clean up.
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(base.disconnects.take, (clientId) => {
      owners.delete(clientId)
      return Effect.zipRight(disconnects[0].offer(clientId), disconnects[1].offer(clientId))
    })))
    return { first, second }
  })

/** The split of the protocol in context, and the first side as the `RpcServer.Protocol` of whatever it is given to. */
export const layer = (isSecond: (tag: string) => boolean) => Layer.scoped(SplitProtocol, make(isSecond))

export const firstSide = Layer.effect(RpcServer.Protocol, Effect.map(SplitProtocol, (split) => split.first))
export const secondSide = Layer.effect(RpcServer.Protocol, Effect.map(SplitProtocol, (split) => split.second))
