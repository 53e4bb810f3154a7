/**
 * Counts the typed RPC failures a node answers (domain/RpcErrorCount.ts):
 * a failure by its `_tag` (`Forbidden`, `IncompatibleProtocol`,
 * `Unauthorized`, `ChannelNotFound`, …), a defect as `Defect`; an
 * interruption (a caller that went away, a stream ended) is not an error.
 * These answers travel in 200 NDJSON exits, so the HTTP door's count
 * (by status) never sees them.
 */
import { Cause, Effect, Layer, Option } from "effect"
import { RpcErrorCount } from "../../domain/RpcErrorCount.ts"
import { errors } from "../observability/ChatMetrics.ts"

const tagOf = (error: unknown) => {
  const tag = typeof error === "object" && error !== null && "_tag" in error ? error._tag : undefined
  return typeof tag === "string" && tag.length <= 64 ? tag : "UnknownError"
}

const count = <E>(cause: Cause.Cause<E>) =>
  Effect.sync(() => {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) errors.rpc(tagOf(failure.value)).update(1)
    else if (Option.isSome(Cause.dieOption(cause))) errors.rpc("Defect").update(1)
  })

export const RpcErrorCountLive = Layer.succeed(RpcErrorCount, RpcErrorCount.of(({ next }) => Effect.tapErrorCause(next, count)))
