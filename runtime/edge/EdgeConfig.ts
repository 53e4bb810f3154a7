/**
 * Settings of the node's public edge: the address its one public port
 * (`/ws`, `/rpc`, `/api/v1`) listens on and the name the node goes by, in
 * the `ShardingConfig` style: a tag, `defaults`, a validated `config` read
 * from the environment, `layer(options)` and `layerFromEnv(options)`. A port
 * outside 0–65535 or an empty host or name is a start-up error naming the
 * variable. README's configuration table lists the same names.
 *
 * The cluster library reads `HOST`/`PORT` itself when left to its own
 * devices; the node passes it every address explicitly (runtime/cluster/
 * Cluster.ts), so the public `PORT` never leaks into the runner's port.
 */
import { hostname } from "node:os"
import { Config, Context, Option } from "effect"
import { configLayers } from "../../src/config/ConfigLayers.ts"
import { optionalText, port, text } from "../../src/config/Settings.ts"

export interface EdgeConfigShape {
  /** Interface the public port binds to. */
  readonly host: string
  /** The public port; 0 lets the OS choose. */
  readonly port: number
  /** The node's name in `hello`, health, locate and logs; none means `<hostname>:<port>`. */
  readonly nodeId: Option.Option<string>
}

export class EdgeConfig extends Context.Tag("plexichat/EdgeConfig")<EdgeConfig, EdgeConfigShape>() {}

export const defaults: EdgeConfigShape = {
  host: "0.0.0.0",
  port: 8080,
  nodeId: Option.none()
}

export const config: Config.Config<EdgeConfigShape> = Config.all({
  host: text("PLEXI_HOST", defaults.host, "Interface the public port binds to."),
  port: port("PORT", defaults.port, "Public port for /ws, /rpc and /api/v1 (never the runner port); 0 lets the OS choose."),
  nodeId: optionalText("PLEXI_NODE_ID", "Node name shown in hello, health, locate and logs. Unset: <hostname>:<PORT>.")
})

/** `layer(options)`: the defaults, `layerFromEnv(options)`: the environment, each with `options` on top. */
export const { layer, layerFromEnv } = configLayers(EdgeConfig, defaults, config)

/** The node's name: `PLEXI_NODE_ID`, else `<hostname>:<PORT>`. */
export const nodeIdOf = (config: EdgeConfigShape) => Option.getOrElse(config.nodeId, () => `${hostname()}:${config.port}`)
