/**
 * What the health endpoint reports about the node it runs on; the runtime
 * provides it, since only the runtime knows its engine, store and shards.
 */
import { Context, type Effect } from "effect"
import type { Health } from "../../domain/Http.ts"

export class NodeStatus extends Context.Tag("plexichat/NodeStatus")<NodeStatus, {
  readonly health: Effect.Effect<Health>
}>() {}
