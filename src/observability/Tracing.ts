/**
 * Trace sampling of posts (docs/OPERATIONS.md, "Traces"). One post is one
 * trace: `plexichat.post` (its root, started where the post enters the node:
 * ChatService) → `plexichat.admit` (the user's post budget) →
 * `plexichat.outbox` (the batch's entity call; through the cluster its
 * context travels in the envelope, and the owner's RPC server span
 * `Channel(<id>).Post` continues it on that node) → `plexichat.commit` (the
 * group-commit write) → `plexichat.fanout` (the owner's publish to its
 * feed).
 *
 * Off (the default) it costs one boolean or number comparison where a span
 * could start, and nothing else: the direct post path and the gateway make
 * no span and take no fiber. The state below is set once at start by
 * runtime/telemetry/SampledTracer.ts, before anything posts.
 */
import { Effect } from "effect"

export const tracing = {
  /** A sampling tracer is installed (spans named here are worth making). */
  enabled: false,
  /** Share of posts traced, 0 to 1. */
  ratio: 0
}

/** The root span of a traced post; the sampling tracer samples no other root. */
export const postSpanName = "plexichat.post"

/** Whether the next post is traced: a random draw at `ratio` (never when tracing is off). */
export const samplePost = () => tracing.ratio > 0 && Math.random() < tracing.ratio

/** `effect` in a span `name` when tracing is on; `effect` itself otherwise. */
export const traced = (name: string, attributes?: () => Record<string, unknown>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  tracing.enabled ? Effect.withSpan(effect, name, attributes === undefined ? undefined : { attributes: attributes() }) : effect
