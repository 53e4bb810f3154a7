/**
 * `plexichat status [--json]`: the cluster as the node at `--url` sees it.
 * Signed in as an owner or admin: every runner with its shards and
 * heartbeat, entity counts and the versions (RPC `ClusterStatus`). Without
 * any credentials: the answering node's public health only
 * (`GET /api/v1/health`), so that it works on a node that has no accounts yet.
 * (`--watch` is StatusWatch.ts.)
 */
import { Command, Options } from "@effect/cli"
import { Effect, Schema } from "effect"
import { Health } from "../../domain/Http.ts"
import { renderCluster } from "./ClusterRender.ts"
import { ExitCode, fail } from "./CliExit.ts"
import { emit } from "./Output.ts"
import { accessToken, jsonOption, remoteOptions, resolveTarget, withClient } from "./Remote.ts"
import { watch } from "./StatusWatch.ts"

const decodeHealth = Schema.decodeUnknown(Schema.parseJson(Health))

/** The node's public health (no token needed). */
export const health = (url: string) =>
  Effect.tryPromise({
    try: (signal) => fetch(`${url}/api/v1/health`, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) }).then((r) => r.text()),
    catch: (e) => e
  }).pipe(
    Effect.catchAll((e) => fail(ExitCode.unreachable, `cannot reach ${url}: ${String(e).slice(0, 200)}`)),
    Effect.flatMap((text) => Effect.catchAll(decodeHealth(text), () => fail(ExitCode.unreachable, `${url}/api/v1/health did not answer a PlexiChat health`)))
  )

const renderHealth = (h: typeof Health.Type) =>
  `node ${h.nodeId}: ${h.status}, ${h.cluster}, ${h.shards} shards, ${h.connections} connections, ${h.feeds} feeds, ` +
  `${h.database}, ${h.websocketEngine}\n(not signed in: the node's public health only; plexichat login for the cluster view)`

const options = {
  ...remoteOptions,
  json: jsonOption,
  watch: Options.boolean("watch").pipe(Options.withDescription("Redraw a live view every --interval until Ctrl-C (needs credentials)."))
}

export const statusCommand = Command.make(
  "status",
  { ...options, interval: Options.integer("interval").pipe(Options.withDescription("Seconds between redraws with --watch."), Options.withDefault(2)) },
  (o) =>
    Effect.gen(function*() {
      const target = yield* resolveTarget(o)
      if (o.watch) return yield* watch(target, o.interval)
      if (target.credentials._tag === "None") {
        const h = yield* health(target.url)
        return yield* emit(o.json, { scope: "node" as const, health: h }, (v) => renderHealth(v.health))
      }
      const token = yield* accessToken(target)
      const view = yield* withClient(target.url, token, (c) => c.ClusterStatus({}))
      yield* emit(o.json, { scope: "cluster" as const, cluster: view }, (v) => renderCluster(v.cluster))
    })
).pipe(Command.withDescription("The cluster: nodes, shards per node, health, entity counts and versions."))
