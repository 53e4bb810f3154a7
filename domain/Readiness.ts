/**
 * Readiness (`GET /api/v1/ready`): whether a load balancer or an orchestrator
 * should send this node traffic. Liveness is `/health`; a node can be alive
 * and not ready (starting, its database unreachable, draining).
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"

/** The node's database answered, it holds shards (or runs alone) and it is not draining. */
export const Readiness = Schema.Struct({
  status: Schema.Literal("ready"),
  nodeId: Schema.String,
  shards: Schema.Number
})
export type Readiness = typeof Readiness.Type

/**
 * Why a node is not ready, checked in this order:
 * - `draining`: it received SIGTERM and is handing its work to the other nodes;
 * - `database_unreachable`: `SELECT 1` failed or took longer than `PLEXI_READY_DB_TIMEOUT`;
 * - `no_shards`: it holds no shard yet (starting, or its shard locks were lost and are being re-taken).
 */
export const NotReadyReason = Schema.Literal("draining", "database_unreachable", "no_shards")
export type NotReadyReason = typeof NotReadyReason.Type

/** Answered 503: take the node out of rotation until `/ready` answers 200 again. */
export class NotReady extends Schema.TaggedError<NotReady>()(
  "NotReady",
  { nodeId: Schema.String, reason: NotReadyReason, detail: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}
