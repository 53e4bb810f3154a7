/**
 * What idle entities cost: heap per active Channel entity, per active User
 * entity and per bare entity (an empty handler: the cluster library's own
 * floor), and the CPU and timers of a node whose entities are all idle.
 * The real entity layers, in process, on a fresh database of the real
 * Postgres (test/fixtures: `entityStack`, `makeTestDatabase`).
 *
 *   npm run bench:idle   (tsc -p tsconfig.bench.json, then node --expose-gc on the compiled file)
 *
 * Compiled by tsc, as the node runs in production (`npm start` runs dist/): under tsx, esbuild's `keepNames` gives
 * every function of PlexiChat's own code a `name` property and with it a 256-byte property array, which made a
 * Channel entity look 18.6 KiB (74 closures) heavier than it is. The library's code (node_modules) is the same
 * either way.
 *
 * N (10,000) entities of each kind, in this order: Bare entities get one
 * `Ping`; User entities get one `Get` (as a sign-in does); Channel entities
 * are created and get one posted message, then no traffic and no
 * followers. Heap per entity is the `heapUsed` delta of each phase, each side measured after
 * several forced GCs. Idle CPU (`process.cpuUsage()`) and active timers
 * (`process.getActiveResourcesInfo()`) are taken over IDLE_MS (10 s) before
 * activation and again with every entity active. The entities' idle time
 * (Channel and Bare: the cluster's minute; User: `userIdleTime`) is raised to
 * 10 minutes (IDLE_TIME_MIN) so that none is passivated while measured; what
 * an entity costs while it is active does not depend on it.
 */
import { writeHeapSnapshot } from "node:v8"
import { Entity, Sharding } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { Duration, Effect, Layer, Redacted, Schema } from "effect"
import { ChannelEntity } from "../../domain/Channel.ts"
import { ChannelId, UserId } from "../../domain/Ids.ts"
import { UserEntity } from "../../domain/User.ts"
import { layerPostgres } from "../../runtime/sql/Database.ts"
import { entityStack } from "../fixtures/InMemoryCluster.ts"
import { makeTestDatabase } from "../fixtures/TestDatabase.ts"

const n = Number(process.env.N ?? 10_000)
const idleMs = Number(process.env.IDLE_MS ?? 10_000)
const idleTime = Duration.minutes(Number(process.env.IDLE_TIME_MIN ?? 10))
const concurrency = Number(process.env.CONCURRENCY ?? 32)
/** HEAP_SNAPSHOTS=dir: a heap snapshot after each phase (`<dir>/<n>-<phase>.heapsnapshot`), to see what an entity holds. */
const snapshots = process.env.HEAP_SNAPSHOTS

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with node --expose-gc")

/** An entity with one empty handler: what the cluster itself keeps per active entity. */
const Bare = Entity.make("Bare", [Rpc.make("Ping", { success: Schema.Void })])
const BareLive = Bare.toLayer(Effect.succeed(Bare.of({ Ping: () => Effect.void })))

/** heapUsed after several forced GCs, with turns in between so that finalizers and queued work settle. */
const settledHeap = Effect.promise(async () => {
  for (let i = 0; i < 6; i++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return process.memoryUsage().heapUsed
})

const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length

/** CPU of this process over `idleMs` of doing nothing, and the timers active at its end. */
const idleWindow = (label: string) =>
  Effect.gen(function*() {
    const from = process.cpuUsage()
    yield* Effect.sleep(idleMs)
    const used = process.cpuUsage(from)
    const ms = (used.user + used.system) / 1000
    console.log(
      `${label}: ${ms.toFixed(0)} ms CPU over ${idleMs / 1000} s idle (${(ms / idleMs * 100).toFixed(2)}% of a core), ` +
        `${timers()} active timers, ${process.getActiveResourcesInfo().length} active resources`
    )
    return ms
  })

const kib = (bytes: number) => (bytes / 1024).toFixed(2)

/** Runs `activate` for 0 … n-1 and prints the settled heap delta per entity. */
const phase = (label: string, activate: (i: number) => Effect.Effect<unknown, unknown>) =>
  Effect.gen(function*() {
    const before = yield* settledHeap
    const started = Date.now()
    yield* Effect.forEach(Array.from({ length: n }, (_, i) => i), activate, { concurrency, discard: true })
    const took = Date.now() - started
    const after = yield* settledHeap
    const active = yield* (yield* Sharding.Sharding).activeEntityCount
    if (snapshots !== undefined) writeHeapSnapshot(`${snapshots}/${n}-${label.split(" ")[0]}.heapsnapshot`)
    console.log(
      `${label}: ${kib((after - before) / n)} KiB heap per entity (${n} activated in ${(took / 1000).toFixed(1)} s, ` +
        `heapUsed ${(after / 2 ** 20).toFixed(1)} MiB, ${active} entities active)`
    )
    return (after - before) / n
  })

const program = Effect.gen(function*() {
  const bare = yield* Bare.client
  const channels = yield* ChannelEntity.client
  const users = yield* UserEntity.client
  const owner = UserId.make("idle-owner")

  // Warm-up: load the code paths (and the JIT) of every kind once, outside the measured phases.
  yield* bare("warm").Ping()
  yield* channels(ChannelId.make("warm")).Create({ name: "warm", visibility: "public", ownerId: owner })
  yield* channels(ChannelId.make("warm")).Post({ items: [{ authorId: owner, clientMsgId: "m", body: "hello" }] })
  yield* users(UserId.make("warm")).Get({})

  yield* idleWindow("idle before activation")
  if (snapshots !== undefined) {
    yield* settledHeap
    writeHeapSnapshot(`${snapshots}/${n}-start.heapsnapshot`)
  }
  yield* phase("bare entity (empty handler)", (i) => bare(`b${i}`).Ping())
  yield* phase("User entity (one Get)", (i) => users(UserId.make(`u${i}`)).Get({}))
  yield* phase("Channel entity (created, one message)", (i) => {
    const channel = channels(ChannelId.make(`c${i}`))
    return Effect.zipRight(
      channel.Create({ name: `channel ${i}`, visibility: "public", ownerId: owner }),
      channel.Post({ items: [{ authorId: owner, clientMsgId: `m${i}`, body: `message ${i}` }] })
    )
  })
  yield* idleWindow(`idle with ${3 * n} entities active`)
})

const main = async () => {
  const db = await makeTestDatabase()
  if (db.kind !== "postgres") throw new Error("needs the real Postgres at PLEXI_TEST_DATABASE_URL or 127.0.0.1:5432")
  try {
    const stack = entityStack(layerPostgres(Redacted.make(db.url), { maxConnections: 8 }), {
      postgres: true,
      sharding: { entityMaxIdleTime: idleTime },
      userIdleTime: idleTime
    })
    const layer = BareLive.pipe(Layer.provideMerge(stack))
    console.log(`node ${process.version}, N=${n}, idle window ${idleMs / 1000} s, entity idle time ${Duration.format(idleTime)}`)
    await Effect.runPromise(Effect.scoped(Effect.provide(program, layer)))
  } finally {
    await db.drop()
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
