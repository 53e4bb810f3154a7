/** Entry point of one PlexiChat node (`npm start`). */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Logger } from "effect"
import { config } from "./Config.ts"
import { NodeLive } from "./Node.ts"

NodeRuntime.runMain(
  Effect.flatMap(config, ({ logLevel }) => Layer.launch(NodeLive).pipe(Logger.withMinimumLogLevel(logLevel)))
)
