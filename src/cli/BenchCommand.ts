/**
 * `plexichat bench`: load against a running node or cluster over its public
 * doors (README, "Admin CLI"). As an owner or admin it creates `--clients`
 * member accounts and `--channels` public channels (bench/BenchSetup.ts),
 * opens one WebSocket per account at `--url`, posts `--rate` messages per
 * second in all for `--duration` seconds (bench/LoadRun.ts), and reports
 * msgs/s, post → ack and post → delivery latency (p50 / p99) and the errors.
 * Exit status 1 when a post was refused or unanswered or a delivery is
 * missing (the report is printed either way); the other codes as CliExit.ts.
 */
import { Command, Options } from "@effect/cli"
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import { PlexiClient } from "../client/PlexiClient.ts"
import { createChannels, createUsers, disableUsers } from "./bench/BenchSetup.ts"
import { wsUrlOf } from "./bench/BenchSocket.ts"
import { type LoadResult, runLoad } from "./bench/LoadRun.ts"
import { ExitCode, fail } from "./CliExit.ts"
import { emit } from "./Output.ts"
import { accessToken, asFailure, jsonOption, remoteOptions, resolveTarget } from "./Remote.ts"

const integer = (name: string, description: string, fallback: number) =>
  Options.integer(name).pipe(Options.withDescription(description), Options.withDefault(fallback))

const options = {
  ...remoteOptions,
  json: jsonOption,
  clients: integer("clients", "WebSocket clients, one bench account each (1 to 1000).", 10),
  channels: integer("channels", "Channels to post to; every client follows every one (1 to 100).", 5),
  rate: integer("rate", "Messages per second, all clients together (1 to 100000).", 100),
  duration: integer("duration", "Seconds of posting (1 to 3600).", 10)
}

const ms = (l: LoadResult["ackLatencyMs"]) => (l.p50 === null ? "-" : `p50 ${l.p50} ms, p99 ${l.p99} ms`)

const render = (r: LoadResult & { readonly url: string }) =>
  [
    `bench against ${r.url}: ${r.clients} clients, ${r.channels} channels, ${r.sent} posts in ${r.durationS} s`,
    `msgs/s ${r.msgsPerSec} (acknowledged), deliveries/s ${r.deliveriesPerSec}`,
    `post → ack       ${ms(r.ackLatencyMs)}`,
    `post → delivery  ${ms(r.deliveryLatencyMs)}`,
    `acked ${r.acked}/${r.sent}, refused ${Object.values(r.errors).reduce((a, b) => a + b, 0)}` +
    `${Object.keys(r.errors).length > 0 ? ` (${Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(", ")})` : ""}, ` +
    `unanswered ${r.unanswered}, delivered ${r.delivered}/${r.expectedDeliveries}`
  ].join("\n")

const checked = (o: { clients: number; channels: number; rate: number; duration: number }) =>
  o.clients < 1 || o.clients > 1000
    ? fail(ExitCode.usage, "--clients: 1 to 1000")
    : o.channels < 1 || o.channels > 100
    ? fail(ExitCode.usage, "--channels: 1 to 100")
    : o.rate < 1 || o.rate > 100_000
    ? fail(ExitCode.usage, "--rate: 1 to 100000")
    : o.duration < 1 || o.duration > 3600
    ? fail(ExitCode.usage, "--duration: 1 to 3600")
    : Effect.void

export const benchCommand = Command.make("bench", options, (o) =>
  Effect.gen(function*() {
    yield* checked(o)
    const target = yield* resolveTarget(o)
    const token = yield* accessToken(target)
    const runId = `bench-${Date.now().toString(36)}${randomBytes(3).toString("hex")}`
    const result = yield* Effect.gen(function*() {
      const admin = yield* PlexiClient
      return yield* Effect.acquireUseRelease(
        createUsers(target.url, admin, runId, o.clients),
        (users) =>
          Effect.flatMap(createChannels(target.url, admin, runId, o.channels, users), (channels) =>
            Effect.tryPromise({
              try: () =>
                runLoad({ wsUrl: wsUrlOf(target.url), tokens: users.tokens, channels, rate: o.rate, durationS: o.duration, settleMs: 10_000, runId }),
              catch: (e) => e
            }).pipe(Effect.catchAll((e) => fail(ExitCode.unreachable, `load: ${String(e).slice(0, 300)}`)))),
        (users) => disableUsers(admin, users)
      )
    }).pipe(Effect.scoped, Effect.provide(PlexiClient.layer({ url: target.url, token })), Effect.mapError(asFailure(target.url)))
    yield* emit(o.json, { url: target.url, ...result }, render)
    const failed = result.unanswered > 0 || result.delivered < result.expectedDeliveries || Object.keys(result.errors).length > 0
    if (failed) return yield* fail(ExitCode.refused, "bench: some posts were refused or unanswered, or deliveries are missing (see the report)")
  })).pipe(Command.withDescription("Load: WebSocket clients posting over channels; msgs/s, ack and delivery latency, errors."))
