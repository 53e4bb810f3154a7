/** Entry point of one PlexiChat node (`npm start`). */
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { NodeLive } from "./Node.ts"

NodeRuntime.runMain(Layer.launch(NodeLive))
