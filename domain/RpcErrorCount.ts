/**
 * A server-side middleware around every typed RPC a node serves: it counts
 * each typed failure it answers (and each defect) in the errors metric
 * (`plexichat_errors_total{door="rpc",tag}`, docs/OPERATIONS.md, "Metrics").
 * Nothing of it is on the wire: clients neither send nor need it.
 */
import { RpcMiddleware } from "@effect/rpc"

export class RpcErrorCount extends RpcMiddleware.Tag<RpcErrorCount>()("plexichat/RpcErrorCount", { wrap: true }) {}
