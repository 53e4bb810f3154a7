/**
 * The bound on a graceful stop: the first finalizer of the node to run (its
 * layer is built last), so that the clock starts with SIGTERM. It marks the
 * node as draining and arms a timer that ends the process with exit code 1
 * once `PLEXI_SHUTDOWN_DEADLINE` has passed, whatever is still stopping. The
 * timer is unref'd: a stop that finishes in time exits as usual (code 0).
 */
import { Duration, Effect, Layer } from "effect"
import { Draining } from "./Draining.ts"
import { LifecycleConfig } from "./LifecycleConfig.ts"

export const layer = Layer.scopedDiscard(Effect.gen(function*() {
  const { shutdownDeadline } = yield* LifecycleConfig
  const draining = yield* Draining
  const deadlineMs = Duration.toMillis(shutdownDeadline)
  yield* Effect.addFinalizer(() =>
    Effect.zipRight(
      Effect.zipRight(draining.begin, Effect.logInfo(`graceful stop: draining, exiting within ${Duration.format(shutdownDeadline)}`)),
      Effect.sync(() => {
        setTimeout(() => {
          process.stderr.write(`PlexiChat node: graceful stop exceeded PLEXI_SHUTDOWN_DEADLINE (${deadlineMs} ms): exiting now\n`)
          process.exit(1)
        }, deadlineMs).unref()
      })
    )
  )
}))
