/**
 * Outgoing runner connections (TCP_NODELAY), kept per runner address so that
 * they can be cut when that runner leaves the cluster.
 *
 * A request in flight to a runner that stopped answering (SIGSTOP, a frozen
 * VM, a partition) waits on its TCP connection for as long as the kernel keeps
 * it open, which is minutes: the library forgets the runner's client when the
 * runner leaves the ring, but requests already sent keep theirs. Cutting the
 * connections fails those requests with `RunnerUnavailable`, and the library
 * sends them again to the shard's new owner. RunnerReaper.ts cuts the
 * connections to every runner that is no longer live.
 */
import * as Net from "node:net"
import { RunnerAddress, Runners } from "@effect/cluster"
import * as Socket from "@effect/platform/Socket"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { RpcClient, RpcSerialization } from "@effect/rpc"
import { Context, Effect, Layer, Scope } from "effect"

export interface RunnerConnectionsShape {
  /** Destroys every open connection to a runner whose `host:port` is not in `live`; returns the addresses cut. */
  readonly cutAllBut: (live: ReadonlySet<string>) => Effect.Effect<ReadonlyArray<string>>
  readonly open: (address: RunnerAddress.RunnerAddress) => Effect.Effect<Socket.Socket>
}

export class RunnerConnections extends Context.Tag("plexichat/RunnerConnections")<RunnerConnections, RunnerConnectionsShape>() {}

const keyOf = (address: RunnerAddress.RunnerAddress) => `${address.host}:${address.port}`

export const make = Effect.sync((): RunnerConnectionsShape => {
  const open = new Map<string, Set<Net.Socket>>()
  const connect = (address: RunnerAddress.RunnerAddress) =>
    Effect.scopeWith((scope) => {
      const key = keyOf(address)
      let conn: Net.Socket | undefined
      return Scope.addFinalizer(scope, Effect.sync(() => {
        if (conn === undefined) return
        open.get(key)?.delete(conn)
        if (!conn.destroyed) conn.destroy()
      })).pipe(Effect.zipRight(Effect.async<Net.Socket, Socket.SocketError>((resume) => {
        conn = Net.createConnection({ host: address.host, port: address.port, noDelay: true })
        const set = open.get(key) ?? new Set<Net.Socket>()
        open.set(key, set.add(conn))
        conn.once("connect", () => resume(Effect.succeed(conn!)))
        conn.on("error", (cause) => resume(Effect.fail(new Socket.SocketGenericError({ reason: "Open", cause }))))
      })))
    })
  return {
    open: (address) => NodeSocket.fromDuplex(connect(address), { openTimeout: 1000 }),
    cutAllBut: (live) =>
      Effect.sync(() => {
        const cut: Array<string> = []
        for (const [key, conns] of open) {
          if (live.has(key) || conns.size === 0) continue
          for (const conn of conns) conn.destroy()
          conns.clear()
          cut.push(key)
        }
        return cut
      })
  }
})

export const layer = Layer.effect(RunnerConnections, make)

/** The runners' client protocol over these connections. */
export const layerClientProtocol = Layer.effect(
  Runners.RpcClientProtocol,
  Effect.gen(function*() {
    const connections = yield* RunnerConnections
    const serialization = yield* RpcSerialization.RpcSerialization
    return (address: RunnerAddress.RunnerAddress) =>
      Effect.flatMap(connections.open(address), (socket) =>
        RpcClient.makeProtocolSocket().pipe(
          Effect.provideService(Socket.Socket, socket),
          Effect.provideService(RpcSerialization.RpcSerialization, serialization)
        ))
  })
)
