/**
 * Trace sampling of posts (docs/OPERATIONS.md, "Traces"). One post is one
 * trace: `plexichat.post` (its root, started where the post enters the node:
 * ChatService) → `plexichat.admit` (the user's post budget) →
 * `plexichat.outbox` (the batch's entity call; through the cluster its
 * context travels in the envelope, and the owner's RPC server span
 * `Channel(<id>).Post` continues it on that node) → `plexichat.commit` (the
 * group-commit write) → `plexichat.fanout` (the owner's publish to its
 * feed) → `plexichat.deliver` on every edge that follows the channel (the
 * feed chunk carries the context).
 *
 * Off (the default) it costs one boolean or number comparison where a span
 * could start, and nothing else: the direct post path and the gateway make
 * no span and take no fiber. The state below is set once at start by
 * runtime/telemetry/SampledTracer.ts, before anything posts.
 */
import { Context, Effect, Exit, Option, Tracer } from "effect"
import type { TraceContext } from "../../domain/Channel.ts"

export const tracing: {
  /** A sampling tracer is installed (spans named here are worth making). */
  enabled: boolean
  /** Share of posts traced, 0 to 1. */
  ratio: number
  /** Most posts traced in one second, whatever `ratio` draws. */
  maxPerSecond: number
  /** The installed tracer, for spans started outside fibers (an edge's delivery). */
  tracer: Tracer.Tracer | undefined
} = { enabled: false, ratio: 0, maxPerSecond: 0, tracer: undefined }

/** The root span of a traced post; the sampling tracer samples no other root. */
export const postSpanName = "plexichat.post"

let second = 0
let tracedThisSecond = 0

/**
 * Whether the next post is traced: a random draw at `ratio` (never when tracing is off), and at most `maxPerSecond`
 * in a second. The cap keeps tracing cheap under load: a traced post takes its whole outbox batch the Effect way
 * instead of the direct path, so at 1% of a deep queue (batches of ~100) most batches would otherwise leave it
 * (ingest node CPU per message 19.9 µs untraced, 41.8 µs at 1% uncapped; docs/BENCHMARKS.md).
 */
export const samplePost = () => {
  if (tracing.ratio <= 0 || Math.random() >= tracing.ratio) return false
  const now = Math.floor(Date.now() / 1000)
  if (now !== second) {
    second = now
    tracedThisSecond = 0
  }
  return tracedThisSecond++ < tracing.maxPerSecond
}

/** `effect` in a span `name` when tracing is on; `effect` itself otherwise. */
export const traced = (name: string, attributes?: () => Record<string, unknown>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  tracing.enabled ? Effect.withSpan(effect, name, attributes === undefined ? undefined : { attributes: attributes() }) : effect

/** `f` with the current span's context when tracing is on and that span is sampled; with undefined otherwise. */
export const withTraceContext = <A, E, R>(f: (trace: TraceContext | undefined) => Effect.Effect<A, E, R>) =>
  tracing.enabled
    ? Effect.flatMap(Effect.option(Effect.currentSpan), (span) =>
      f(Option.isSome(span) && span.value.sampled ? { traceId: span.value.traceId, spanId: span.value.spanId } : undefined))
    : f(undefined)

const nowNanos = () => process.hrtime.bigint()

/** A span's context, for a child made outside fibers or on another node. */
export const traceOf = (span: Tracer.AnySpan): TraceContext => ({ traceId: span.traceId, spanId: span.spanId })

/** A span started outside fibers (in callbacks), ended by the caller with `endSpan`. */
export interface CallbackSpan {
  readonly span: Tracer.Span
  readonly trace: TraceContext
}

/**
 * Starts `name` as a child of `parent` (a span here, or the context of one on another node) outside any fiber, for
 * the callback paths that take no fiber (the direct post, an edge's delivery); undefined when tracing is off here.
 */
export const startSpan = (parent: Tracer.AnySpan | TraceContext, name: string, attributes?: Record<string, unknown>): CallbackSpan | undefined => {
  const tracer = tracing.tracer
  if (tracer === undefined) return undefined
  const parentSpan = "_tag" in parent ? parent : Tracer.externalSpan({ traceId: parent.traceId, spanId: parent.spanId, sampled: true })
  const span = tracer.span(name, Option.some(parentSpan), Context.empty(), [], nowNanos(), "internal")
  if (attributes !== undefined) for (const [key, value] of Object.entries(attributes)) span.attribute(key, value)
  return { span, trace: traceOf(span) }
}

/** Ends a span `startSpan` made (nothing when it made none). */
export const endSpan = (started: CallbackSpan | undefined, exit: Exit.Exit<unknown, unknown> = Exit.void) => {
  started?.span.end(nowNanos(), exit)
}

/**
 * Runs `f` (synchronous, outside any fiber) in a span `name` that continues
 * `trace`, when tracing is on here; just runs it otherwise.
 */
export const inRemoteSpan = <A>(trace: TraceContext, name: string, attributes: Record<string, unknown>, f: () => A): A => {
  const started = startSpan(trace, name, attributes)
  if (started === undefined) return f()
  try {
    return f()
  } finally {
    endSpan(started)
  }
}
