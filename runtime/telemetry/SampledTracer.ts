/**
 * The node's tracer when `PLEXI_OTEL_SAMPLE_RATIO` > 0 and `PLEXI_OTEL_ENDPOINT`
 * is set: posts are sampled at that ratio (src/observability/Tracing.ts), and
 * only their spans are recorded and exported (OTLP JSON to
 * `<endpoint>/v1/traces`, @effect/opentelemetry's `OtlpTracer`). A span is
 * sampled when its parent is (a parent from another node carries its
 * `sampled` flag in the cluster envelope), and a root only when it is a
 * post's root: the node's other spans (cluster internals, migrations, HTTP)
 * become cheap unsampled spans that are never exported, and their children
 * are unsampled too.
 */
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import type { Context, Exit } from "effect"
import { Effect, Layer, Option, Tracer } from "effect"
import { postSpanName, tracing } from "../../src/observability/Tracing.ts"

/** Random lower-case hex (ids of unsampled spans: unique enough, and no syscall as `randomBytes` would make). */
const cheapHex = (length: number) => {
  let out = ""
  while (out.length < length) out += (Math.random() * 2 ** 32 >>> 0).toString(16).padStart(8, "0")
  return out.slice(0, length)
}

const noAttributes: ReadonlyMap<string, unknown> = new Map()
const noLinks: ReadonlyArray<Tracer.SpanLink> = []

/**
 * A span nothing records: ids for propagation, `sampled: false` for its children and for other nodes. Every span of
 * the node that is not part of a sampled post is one of these (the cluster's and RPC's own spans for every call
 * among them), so it is kept cheap: ids are made only when something reads them, from `Math.random` as Effect's
 * own tracer does.
 */
class UnsampledSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly sampled = false
  readonly attributes = noAttributes
  readonly links = noLinks as Array<Tracer.SpanLink>
  status: Tracer.SpanStatus
  private ownSpanId: string | undefined
  private ownTraceId: string | undefined
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind
  ) {
    this.status = { _tag: "Started", startTime }
  }
  get spanId() {
    return this.ownSpanId ??= cheapHex(16)
  }
  get traceId() {
    return this.ownTraceId ??= Option.isSome(this.parent) ? this.parent.value.traceId : cheapHex(32)
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
  }
  attribute() {}
  event() {}
  addLinks() {}
}

export interface SampledTracerOptions {
  readonly url: string
  readonly ratio: number
  readonly maxPerSecond: number
  readonly serviceName: string
  readonly nodeId: string
}

/** Installs the tracer for the layer's lifetime (the exporter flushes on release). */
export const layer = (options: SampledTracerOptions) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const otlp = yield* OtlpTracer.make({
      url: options.url,
      resource: { serviceName: options.serviceName, attributes: { "service.instance.id": options.nodeId } },
      exportInterval: "1 second"
    })
    const tracer = Tracer.make({
      span(name, parent, context, links, startTime, kind) {
        const sampled = Option.isSome(parent) ? parent.value.sampled : name === postSpanName
        return sampled
          ? otlp.span(name, parent, context, links, startTime, kind)
          : new UnsampledSpan(name, parent, context, startTime, kind)
      },
      context: otlp.context
    })
    yield* Effect.acquireRelease(
      Effect.sync(() => Object.assign(tracing, { enabled: true, ratio: options.ratio, maxPerSecond: options.maxPerSecond, tracer })),
      () => Effect.sync(() => Object.assign(tracing, { enabled: false, ratio: 0, tracer: undefined }))
    )
    return Layer.setTracer(tracer)
  }))
