import { Either, Exit, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as EdgeConfig from "../../runtime/edge/EdgeConfig.ts"
import { fromLayer, itRefuses, readConfig } from "../fixtures/ConfigEnv.ts"

describe("EdgeConfig", () => {
  it("defaults to 0.0.0.0:8080 and no fixed node id", () => {
    expect(readConfig(EdgeConfig.config, {})).toEqual(Either.right(EdgeConfig.defaults))
    expect(EdgeConfig.defaults).toEqual({ host: "0.0.0.0", port: 8080, nodeId: Option.none() })
  })

  it("reads PLEXI_HOST, PORT (0: the OS chooses) and PLEXI_NODE_ID", () => {
    expect(readConfig(EdgeConfig.config, { PLEXI_HOST: "127.0.0.1", PORT: "0", PLEXI_NODE_ID: "node-a" }))
      .toEqual(Either.right({ host: "127.0.0.1", port: 0, nodeId: Option.some("node-a") }))
  })

  it("layerFromEnv puts its options over the environment", () => {
    expect(fromLayer(EdgeConfig.layerFromEnv({ port: 9000 }), EdgeConfig.EdgeConfig, { PORT: "8081", PLEXI_HOST: "::1" }))
      .toEqual(Exit.succeed({ host: "::1", port: 9000, nodeId: Option.none() }))
  })

  itRefuses(EdgeConfig.config, [
    ["PORT", "70000"],
    ["PORT", "-1"],
    ["PORT", "http"],
    ["PLEXI_HOST", ""],
    ["PLEXI_NODE_ID", ""]
  ])
})
