/**
 * The runner's listening socket, bound before anything else of the cluster so
 * that the runner can advertise the port it really got (`PLEXI_RUNNER_PORT=0`
 * lets the OS choose one, as the tests do).
 *
 * A hash of the advertised address also names the node's database sessions
 * (`application_name`), so that other runners can tell from Postgres alone
 * whether this runner still has a session (see RunnerReaper.ts).
 *
 * Accepted connections set TCP_NODELAY: a cross-node `Subscribe` stream
 * acknowledges every chunk with a small message, and under Nagle's algorithm
 * plus delayed ACKs each of those round trips took ~40 ms.
 */
import * as Crypto from "node:crypto"
import { RunnerAddress } from "@effect/cluster"
import type * as SocketServer from "@effect/platform/SocketServer"
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import { Context, Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import { DatabaseConfig, onPostgres } from "../sql/DatabaseConfig.ts"
import { ClusterConfig } from "./ClusterConfig.ts"

export interface BoundRunner {
  readonly server: SocketServer.SocketServer["Type"]
  /** Host from `PLEXI_RUNNER_HOST`, port as bound. */
  readonly address: RunnerAddress.RunnerAddress
}

/** The bound runner socket; none on a single embedded node (no runner network). */
export class RunnerSocket extends Context.Tag("plexichat/RunnerSocket")<RunnerSocket, Option.Option<BoundRunner>>() {}

/** The prefix of every runner session's `application_name`. */
export const applicationNamePrefix = "plexi-runner "

/**
 * `application_name` of every database session of the runner advertised as `host:port`: the prefix and the first
 * 16 hex digits of the address's SHA-256, 29 bytes whatever the address (Postgres truncates the name to 63 bytes,
 * so a long host name would no longer match its runner row). The reaper computes it the same way from the row.
 */
export const applicationNameOf = (address: string) =>
  applicationNamePrefix + Crypto.createHash("sha256").update(address, "utf8").digest("hex").slice(0, 16)

export const applicationName = (address: RunnerAddress.RunnerAddress) => applicationNameOf(`${address.host}:${address.port}`)

/** How long a stopping node waits for its runner socket to close before it goes on without it. */
const closeWaitMs = 1000

/**
 * The socket's close waits for every accepted connection to end, including connections other runners opened
 * after the runner stopped serving (the library keeps those unread and open): one graceful stop of 20 waited for
 * them until the shutdown deadline ended the process. The close is bounded; the process exits after its stop.
 */
const boundedClose = (scope: Scope.CloseableScope) =>
  // A scope's finalizers cannot be interrupted: the close runs in a fiber of its own, and only waiting for it is bounded.
  Effect.flatMap(Effect.forkDaemon(Scope.close(scope, Exit.void)), (closing) => Fiber.await(closing)).pipe(
    Effect.interruptible,
    Effect.timeoutOption(closeWaitMs),
    Effect.flatMap((closed) =>
      Option.isSome(closed) ? Effect.void : Effect.logWarning(`runner socket still had open connections after ${closeWaitMs} ms: not waiting for them`))
  )

const bind = Effect.gen(function*() {
  const cluster = yield* ClusterConfig
  const scope = yield* Scope.make()
  yield* Effect.addFinalizer(() => boundedClose(scope))
  const server = yield* NodeSocketServer.make({ host: cluster.runnerListenHost, port: cluster.runnerPort, noDelay: true }).pipe(
    Scope.extend(scope)
  )
  const port = server.address._tag === "TcpAddress" ? server.address.port : cluster.runnerPort
  return { server, address: RunnerAddress.make(cluster.runnerHost, port) }
})

export const layer = Layer.scoped(
  RunnerSocket,
  Effect.flatMap(DatabaseConfig, (config) =>
    onPostgres(config) ? Effect.map(Effect.orDie(bind), Option.some) : Effect.succeed(Option.none()))
)
