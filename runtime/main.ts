/** Entry point of one PlexiChat node (`npm start`). */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Logger } from "effect"
import * as LogConfig from "./LogConfig.ts"
import { NodeLive } from "./Node.ts"

NodeRuntime.runMain(
  Effect.flatMap(LogConfig.LogConfig, ({ level }) => Layer.launch(NodeLive).pipe(Logger.withMinimumLogLevel(level))).pipe(
    Effect.provide(LogConfig.layerFromEnv())
  )
)
