/**
 * The runner's listening socket, bound before anything else of the cluster so
 * that the runner can advertise the port it really got (`PLEXI_RUNNER_PORT=0`
 * lets the OS choose one, as the tests do).
 *
 * The advertised address also names the node's database sessions
 * (`application_name`), so that other runners can tell from Postgres alone
 * whether this runner still has a session (see RunnerReaper.ts).
 *
 * Accepted connections set TCP_NODELAY: a cross-node `Subscribe` stream
 * acknowledges every chunk with a small message, and under Nagle's algorithm
 * plus delayed ACKs each of those round trips took ~40 ms.
 */
import { RunnerAddress } from "@effect/cluster"
import type { SocketServer } from "@effect/platform"
import { NodeSocketServer } from "@effect/platform-node"
import { Context, Effect, Layer, Option } from "effect"
import { PlexiConfig } from "../Config.ts"
import { ClusterConfig } from "./ClusterConfig.ts"

export interface BoundRunner {
  readonly server: SocketServer.SocketServer["Type"]
  /** Host from `PLEXI_RUNNER_HOST`, port as bound. */
  readonly address: RunnerAddress.RunnerAddress
}

/** The bound runner socket; none on a single embedded node (no runner network). */
export class RunnerSocket extends Context.Tag("plexichat/RunnerSocket")<RunnerSocket, Option.Option<BoundRunner>>() {}

/** `application_name` of every database session of the runner at `address` (Postgres keeps 63 bytes). */
export const applicationName = (address: RunnerAddress.RunnerAddress) => `plexi-runner ${address.host}:${address.port}`

/** The prefix of `applicationName`, for SQL that matches sessions to runner rows. */
export const applicationNamePrefix = "plexi-runner "

const bind = Effect.gen(function*() {
  const cluster = yield* ClusterConfig
  const server = yield* NodeSocketServer.make({ host: cluster.runnerListenHost, port: cluster.runnerPort, noDelay: true })
  const port = server.address._tag === "TcpAddress" ? server.address.port : cluster.runnerPort
  return { server, address: RunnerAddress.make(cluster.runnerHost, port) }
})

export const layer = Layer.scoped(
  RunnerSocket,
  Effect.flatMap(PlexiConfig, (config) =>
    Option.isSome(config.databaseUrl) ? Effect.map(Effect.orDie(bind), Option.some) : Effect.succeed(Option.none()))
)
