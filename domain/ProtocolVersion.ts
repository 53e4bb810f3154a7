/**
 * The version of the typed RPC protocol (`/rpc`) and the rule for which
 * clients a node serves (docs/PROTOCOL.md, "Versions"). A client names its
 * version in the `plexi-protocol` header (`MAJOR.MINOR`); `plexichat/client`
 * sends it on every call. A node serves a client of the same major version
 * whose minor version is at most one away from its own, so that during a
 * rolling upgrade clients of either release work against nodes of either. A
 * client without the header is served as one of the node's own version
 * (hand-written NDJSON callers, curl). Any other client gets
 * `IncompatibleProtocol` on every call, before authentication.
 */
import { RpcMiddleware } from "@effect/rpc"
import { Schema } from "effect"

/**
 * This build's protocol version. Bump the minor version for additions, the major one for breaking changes.
 * 1.1: the operations RPCs (domain/OperationsRpcs.ts). 1.2: `ClusterStatus` answers each node's release and the
 * answering node's commit latency (optional fields, domain/Operations.ts).
 */
export const PROTOCOL_VERSION = "1.2"

/** The header a client names its protocol version in. */
export const PROTOCOL_HEADER = "plexi-protocol"

/** The node does not serve a client of this protocol version. */
export class IncompatibleProtocol extends Schema.TaggedError<IncompatibleProtocol>()("IncompatibleProtocol", {
  clientVersion: Schema.String,
  serverVersion: Schema.String,
  message: Schema.String
}) {}

const parse = (version: string) => {
  const parsed = /^(\d{1,4})\.(\d{1,4})$/.exec(version)
  return parsed === null ? undefined : { major: Number(parsed[1]), minor: Number(parsed[2]) }
}

/** Undefined when a node of `server` serves a client of `client`, else why not (for `IncompatibleProtocol.message`). */
export const incompatibility = (client: string, server: string = PROTOCOL_VERSION): string | undefined => {
  const [c, s] = [parse(client), parse(server)]
  if (c === undefined || s === undefined) return `protocol version ${JSON.stringify(client.slice(0, 16))} is not MAJOR.MINOR`
  if (c.major !== s.major) return `protocol ${client} has another major version than this node's ${server}; use a client of ${s.major}.x`
  if (Math.abs(c.minor - s.minor) > 1) {
    return `protocol ${client} is more than one minor version away from this node's ${server}; ` +
      `upgrade the ${c.minor < s.minor ? "client" : "node"}`
  }
  return undefined
}

/** Checks the caller's `plexi-protocol` header on every RPC (before authentication). */
export class RpcProtocolCheck extends RpcMiddleware.Tag<RpcProtocolCheck>()("plexichat/RpcProtocolCheck", {
  failure: IncompatibleProtocol
}) {}
