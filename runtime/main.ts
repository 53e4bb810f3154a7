/** Entry point of one PlexiChat node (`npm start`). */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Layer, Logger } from "effect"
import * as EdgeConfig from "./edge/EdgeConfig.ts"
import { makeEventLoopScheduler } from "./EventLoopScheduler.ts"
import * as LogConfig from "./LogConfig.ts"
import { NodeLive } from "./Node.ts"
import * as NodeLogger from "./telemetry/NodeLogger.ts"

/** Fibers give the event loop a turn at least every 5 ms of queued work (see EventLoopScheduler.ts). */
const scheduler = makeEventLoopScheduler(5)

/** Set once the node's own logger reported a failure, so that it is not reported twice. */
let reported = false

const launch = (log: LogConfig.LogConfigShape, nodeId: string) =>
  Layer.launch(NodeLive).pipe(
    Effect.tapErrorCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Effect.zipRight(Effect.logError(cause), Effect.sync(() => (reported = true)))),
    NodeLogger.annotate(log.format, nodeId),
    Logger.withMinimumLogLevel(log.level),
    Effect.provide(NodeLogger.layer(log.format, nodeId)),
    Effect.withScheduler(scheduler)
  )

NodeRuntime.runMain(
  Effect.flatMap(Effect.all([LogConfig.LogConfig, EdgeConfig.EdgeConfig]), ([log, edge]) => launch(log, EdgeConfig.nodeIdOf(edge))).pipe(
    Effect.provide([LogConfig.layerFromEnv(), EdgeConfig.layerFromEnv()]),
    // A bad log or edge setting fails before the node's logger exists: Effect's pretty logger reports it.
    Effect.tapErrorCause((cause) =>
      reported || Cause.isInterruptedOnly(cause) ? Effect.void : Effect.provide(Effect.logError(cause), Logger.pretty))
  ),
  { disableErrorReporting: true, disablePrettyLogger: true }
)
