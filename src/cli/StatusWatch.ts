/**
 * `plexichat status --watch`: the cluster view redrawn every `--interval`
 * seconds until Ctrl-C: nodes, shards, the answering node's connections and
 * feeds, its group-commit latency (p50 / p99 over about the last 10 s,
 * ClusterRender.ts), and messages per second (the change of the stored
 * message count between two redraws, cluster-wide).
 */
import { Console, Effect, Schedule } from "effect"
import { ExitCode, fail } from "./CliExit.ts"
import { renderCluster } from "./ClusterRender.ts"
import { accessToken, type Target, withClient } from "./Remote.ts"

export const watch = (target: Target, intervalSeconds: number) =>
  Effect.gen(function*() {
    if (intervalSeconds < 1 || intervalSeconds > 3600) return yield* fail(ExitCode.usage, "--interval: 1 to 3600 seconds")
    if (target.credentials._tag === "None") return yield* fail(ExitCode.unauthenticated, "--watch needs credentials: run plexichat login first")
    let last: { readonly at: number; readonly messages: number } | undefined
    const frame = Effect.gen(function*() {
      const token = yield* accessToken(target)
      const view = yield* withClient(target.url, token, (c) => c.ClusterStatus({}))
      const rate = last === undefined || view.at <= last.at
        ? "-"
        : ((view.counts.messages - last.messages) / ((view.at - last.at) / 1000)).toFixed(1)
      last = { at: view.at, messages: view.counts.messages }
      // Clear the screen and home the cursor, then draw.
      yield* Console.log(`\x1b[2J\x1b[H${renderCluster(view)}\n\nmsgs/s ${rate} (stored messages, cluster-wide)   every ${intervalSeconds} s, Ctrl-C to stop`)
    })
    return yield* Effect.repeat(frame, Schedule.spaced(`${intervalSeconds} seconds`))
  }).pipe(Effect.asVoid)
