/**
 * Micro-benchmark of a Channel claim (what every entity load runs first) on
 * real Postgres (not part of the suite): 1,000 channels over 100 shards, each
 * claimed in turn, `CONCURRENCY` at once, in alternating rounds of three
 * variants: the claim before shard holders (a plain UPDATE … RETURNING), the
 * claim of a single runner (no holder to check) and the claim of a cluster
 * runner (share lock on the shard's `plexi_shard_holders` row). Each is
 * followed by the members query, as in `claimChannel`. Prints the median
 * round's µs per claim (wall time, and this process's CPU time). Run:
 * `node --import tsx test/integration/ClaimBench.ts [claims per round] [concurrency]`.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option, Redacted } from "effect"
import { ChannelId, UserId } from "../../domain/Ids.ts"
import { MessageStore } from "../../src/messaging/MessageStore.ts"
import { layerPostgres } from "../../runtime/sql/Database.ts"
import { migrated } from "../fixtures/InMemoryCluster.ts"
import { makeTestDatabase } from "../fixtures/TestDatabase.ts"

const CHANNELS = 1000
const SHARDS = 100
const CLAIMS = Number(process.argv[2] ?? 2000)
const CONCURRENCY = Number(process.argv[3] ?? 1)
const ROUNDS = 40

const program = Effect.gen(function*() {
  const store = yield* MessageStore
  const sql = yield* SqlClient.SqlClient
  const channels = Array.from({ length: CHANNELS }, (_, i) => ChannelId.make(`bench_${i}`))
  const shardOf = (i: number) => `default:${(i % SHARDS) + 1}`
  for (let s = 1; s <= SHARDS; s++) {
    yield* sql`INSERT INTO plexi_shard_holders (shard_id, lock_key, runner) VALUES (${`default:${s}`}, ${1_000_000 + s}, 'bench')`
  }
  for (const id of channels) {
    const members = [{ userId: UserId.make("a"), role: "owner" as const }, { userId: UserId.make("b"), role: "member" as const }]
    yield* store.createChannel({ id, name: "bench", visibility: "public", createdBy: UserId.make("a"), createdAt: 0, members }, Option.none())
  }
  /** The claim before shard holders (PlexiChat up to migration 0002), with its members query. */
  const plain = (i: number) =>
    Effect.zipRight(
      sql`UPDATE plexi_channels SET owner_epoch = owner_epoch + 1 WHERE id = ${channels[i]!}
        RETURNING name, visibility, created_by, created_at, owner_epoch`,
      sql`SELECT user_id, role FROM plexi_channel_members WHERE channel_id = ${channels[i]!} ORDER BY joined_at, user_id`
    )
  const sole = (i: number) => store.claimChannel(channels[i]!, Option.none())
  const held = (i: number) => store.claimChannel(channels[i]!, Option.some({ shardId: shardOf(i), runner: "bench" }))
  const variants = [["plain", plain], ["sole", sole], ["held", held]] as const
  const run = (claim: (i: number) => Effect.Effect<unknown, unknown>, n: number, offset: number) =>
    Effect.forEach(Array.from({ length: n }, (_, k) => (offset + k) % CHANNELS), claim, { concurrency: CONCURRENCY, discard: true })
  for (const [, claim] of variants) yield* run(claim, 200, 0) // warm-up
  const samples = { plain: [] as Array<[number, number]>, sole: [] as Array<[number, number]>, held: [] as Array<[number, number]> }
  // Alternate short rounds, so that every variant sees the same machine load; report the median round.
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, claim] of variants) {
      const [start, cpu] = [performance.now(), process.cpuUsage()]
      yield* run(claim, CLAIMS / ROUNDS, round * 97)
      const used = process.cpuUsage(cpu)
      samples[name].push([((performance.now() - start) * 1000) / (CLAIMS / ROUNDS), (used.user + used.system) / (CLAIMS / ROUNDS)])
    }
  }
  const median = (xs: Array<number>) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
  for (const [name, rounds] of Object.entries(samples)) {
    const [wall, cpu] = [median(rounds.map((r) => r[0])), median(rounds.map((r) => r[1]))]
    console.log(`${name}: ${CLAIMS} claims, concurrency ${CONCURRENCY}: median round ${wall.toFixed(0)} µs per claim (wall), ${cpu.toFixed(0)} µs node CPU`)
  }
  const check = yield* store.claimChannel(channels[0]!, Option.some({ shardId: shardOf(0), runner: "bench" }))
  console.log(`a held claim still claims: ${check._tag}`)
})

const main = async () => {
  const db = await makeTestDatabase()
  try {
    if (db.kind !== "postgres") throw new Error("needs a real Postgres")
    await Effect.runPromise(program.pipe(
      Effect.provide(MessageStore.Default.pipe(Layer.provideMerge(migrated(layerPostgres(Redacted.make(db.url), { maxConnections: 8 }))))),
      Effect.scoped
    ))
  } finally {
    await db.drop()
  }
}
void main()
