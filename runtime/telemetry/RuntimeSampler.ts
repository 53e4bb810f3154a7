/**
 * The process gauges: event-loop lag (from Node's `monitorEventLoopDelay`,
 * over the last sampling interval) and memory. Sampled every 5 s by a fiber
 * of the node's scope, and again at each `/metrics` scrape.
 */
import { monitorEventLoopDelay } from "node:perf_hooks"
import { Effect, Schedule } from "effect"
import { gaugeHook } from "../../src/observability/MetricHooks.ts"

const lagHelp = "Event-loop delay over the last sampling interval, in milliseconds"
const lag = {
  mean: gaugeHook("plexichat_event_loop_lag_ms", lagHelp, { stat: "mean" }),
  p99: gaugeHook("plexichat_event_loop_lag_ms", lagHelp, { stat: "p99" }),
  max: gaugeHook("plexichat_event_loop_lag_ms", lagHelp, { stat: "max" })
}
const memoryHelp = "Process memory, in bytes (process.memoryUsage())"
const memory = {
  rss: gaugeHook("plexichat_process_memory_bytes", memoryHelp, { kind: "rss" }),
  heapUsed: gaugeHook("plexichat_process_memory_bytes", memoryHelp, { kind: "heap_used" }),
  heapTotal: gaugeHook("plexichat_process_memory_bytes", memoryHelp, { kind: "heap_total" }),
  external: gaugeHook("plexichat_process_memory_bytes", memoryHelp, { kind: "external" }),
  arrayBuffers: gaugeHook("plexichat_process_memory_bytes", memoryHelp, { kind: "array_buffers" })
}

const histogram = monitorEventLoopDelay({ resolution: 10 })
let started = false

/** Updates the gauges now (and restarts the lag window). */
export const sampleRuntime = () => {
  if (!started) {
    histogram.enable()
    started = true
  }
  if (histogram.count > 0) {
    lag.mean.update(histogram.mean / 1e6)
    lag.p99.update(histogram.percentile(99) / 1e6)
    lag.max.update(histogram.max / 1e6)
    histogram.reset()
  }
  const m = process.memoryUsage()
  memory.rss.update(m.rss)
  memory.heapUsed.update(m.heapUsed)
  memory.heapTotal.update(m.heapTotal)
  memory.external.update(m.external)
  memory.arrayBuffers.update(m.arrayBuffers)
}

/** Samples every 5 s for as long as the scope lasts. */
export const runtimeSampler = Effect.sync(sampleRuntime).pipe(
  Effect.repeat(Schedule.spaced("5 seconds")),
  Effect.ensuring(Effect.sync(() => {
    histogram.disable()
    started = false
  })),
  Effect.forkScoped,
  Effect.asVoid
)
