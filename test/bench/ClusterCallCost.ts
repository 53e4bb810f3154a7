/**
 * The floor of @effect/cluster 0.60.2 for a chat hot path, as a minimal
 * reproduction: CPU per volatile entity call and per entity-stream chunk
 * when caller and entity share the process (SingleRunner, in-memory runner
 * storage, `simulateRemoteSerialization: false`, a one-line entity).
 *
 *   node --import tsx test/bench/ClusterCallCost.ts
 *
 * CALLS (20,000), ENTITIES (1,000), CONCURRENCY (1). Prints CPU µs of this
 * process per call and per chunk; run it with the tracer on and off
 * (NO_TRACER=1) to see what spans cost.
 */
import { Entity, RunnerAddress, SingleRunner } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { Effect, Layer, Option, Schema, Stream } from "effect"
import { layerPgliteClient } from "../../runtime/sql/Database.ts"

const Echo = Entity.make("Echo", [
  Rpc.make("Ping", { payload: { n: Schema.Number }, success: Schema.Number }),
  Rpc.make("Feed", { payload: { count: Schema.Number }, success: Schema.Number, stream: true })
])

const EchoLive = Echo.toLayer(Effect.succeed(Echo.of({
  Ping: ({ payload }) => Effect.succeed(payload.n),
  // One element per chunk, as a live feed with one message per commit sends them.
  Feed: ({ payload }) => Rpc.fork(Stream.range(1, payload.count).pipe(Stream.rechunk(1)))
})))

const calls = Number(process.env.CALLS ?? 20_000)
const entities = Number(process.env.ENTITIES ?? 1000)
const concurrency = Number(process.env.CONCURRENCY ?? 1)

const cpuMicros = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from)
  return used.user + used.system
}

const program = Effect.gen(function*() {
  const client = yield* Echo.client
  // Warm-up: activate every entity and let the JIT settle.
  yield* Effect.forEach(Array.from({ length: 2000 }, (_, i) => i), (i) => client(`e${i % entities}`).Ping({ n: i }), { discard: true })

  let start = process.cpuUsage()
  yield* Effect.forEach(Array.from({ length: calls }, (_, i) => i), (i) => client(`e${i % entities}`).Ping({ n: i }), {
    concurrency,
    discard: true
  })
  console.log(`entity call: ${(cpuMicros(start) / calls).toFixed(1)} µs CPU per call (${entities} entities, concurrency ${concurrency})`)

  start = process.cpuUsage()
  const received = yield* Stream.runCount(client("stream").Feed({ count: calls }))
  console.log(`entity stream: ${(cpuMicros(start) / received).toFixed(1)} µs CPU per one-element chunk (${received} chunks)`)
})

const runner = SingleRunner.layer({
  runnerStorage: "memory",
  shardingConfig: {
    runnerAddress: Option.some(RunnerAddress.make("127.0.0.1", 1)),
    runnerListenAddress: Option.none(),
    simulateRemoteSerialization: false
  }
})
const stack = EchoLive.pipe(Layer.provideMerge(runner), Layer.provide(layerPgliteClient()))
const tracer = process.env.NO_TRACER === "1" ? Layer.setTracerEnabled(false) : Layer.empty

Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Layer.merge(stack, tracer)))).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
