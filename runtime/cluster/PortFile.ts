/**
 * Writes the ports a node really listens on to `PLEXI_PORT_FILE`, once both
 * the public edge and the runner socket are bound: a supervisor or a test
 * starts nodes with `PORT=0 PLEXI_RUNNER_PORT=0`, reads
 * `{"port":…,"runnerPort":…}` from the file and polls `/api/v1/health`.
 * Written to a temporary name and renamed, so a reader never sees half a file.
 */
import { renameSync, writeFileSync } from "node:fs"
import { Effect, Layer, Option } from "effect"
import { EdgeServer } from "../edge/Edge.ts"
import { ClusterConfig } from "./ClusterConfig.ts"
import { RunnerSocket } from "./RunnerSocket.ts"

export const layer = Layer.effectDiscard(Effect.gen(function*() {
  const { portFile } = yield* ClusterConfig
  if (Option.isNone(portFile)) return
  const { port } = yield* EdgeServer
  const socket = yield* RunnerSocket
  const runnerPort = Option.match(socket, { onNone: () => null, onSome: (s) => s.address.port })
  yield* Effect.sync(() => {
    writeFileSync(`${portFile.value}.tmp`, JSON.stringify({ port, runnerPort }))
    renameSync(`${portFile.value}.tmp`, portFile.value)
  })
}))
