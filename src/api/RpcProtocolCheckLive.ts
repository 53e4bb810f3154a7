/**
 * The node's protocol check of every typed RPC (domain/ProtocolVersion.ts):
 * a client whose `plexi-protocol` header names a version this node does not
 * serve gets `IncompatibleProtocol` before anything else runs.
 */
import { Effect, Layer } from "effect"
import { IncompatibleProtocol, incompatibility, PROTOCOL_HEADER, PROTOCOL_VERSION, RpcProtocolCheck } from "../../domain/ProtocolVersion.ts"

export const RpcProtocolCheckLive = Layer.succeed(
  RpcProtocolCheck,
  RpcProtocolCheck.of(({ headers }) => {
    const client = headers[PROTOCOL_HEADER]
    if (client === undefined) return Effect.void
    const problem = incompatibility(client)
    return problem === undefined
      ? Effect.void
      : Effect.zipRight(
        Effect.logDebug("RPC call refused: incompatible protocol", { client: client.slice(0, 16) }),
        Effect.fail(new IncompatibleProtocol({ clientVersion: client.slice(0, 16), serverVersion: PROTOCOL_VERSION, message: problem }))
      )
  })
)
