/**
 * Micro-benchmark of the group-commit message INSERT on real Postgres (not
 * part of the suite): 200 channels, statements of `BATCH` rows spread over
 * them, `STATEMENTS` statements (`CONCURRENCY` at once), the fenced statement
 * and the plain one it replaced in alternating rounds. Prints rows/s. Run:
 * `node --import tsx test/integration/InsertBench.ts [rows per statement] [statements] [concurrency]`.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option, Redacted } from "effect"
import type { Message } from "../../domain/Channel.ts"
import { ChannelId, messageIdOf, UserId } from "../../domain/Ids.ts"
import { MessageStore } from "../../src/messaging/MessageStore.ts"
import { layerPostgres } from "../../runtime/sql/Database.ts"
import { migrated } from "../fixtures/InMemoryCluster.ts"
import { makeTestDatabase } from "../fixtures/TestDatabase.ts"

const CHANNELS = 200
const BATCH = Number(process.argv[2] ?? 2000)
const STATEMENTS = Number(process.argv[3] ?? 100)
const CONCURRENCY = Number(process.argv[4] ?? 1)
const ROUNDS = 10

const program = Effect.gen(function*() {
  const store = yield* MessageStore
  const sql = yield* SqlClient.SqlClient
  const channels = Array.from({ length: CHANNELS }, (_, i) => ChannelId.make(`bench_${i}`))
  const epochs = new Map<ChannelId, number>()
  for (const id of channels) {
    yield* store.createChannel({ id, name: "bench", visibility: "public", createdBy: UserId.make("a"), createdAt: 0, members: [] }, Option.none())
    epochs.set(id, 1)
  }
  const seqs = new Map<ChannelId, number>(channels.map((c) => [c, 0]))
  const batch = (): Array<Message> =>
    Array.from({ length: BATCH }, (_, i) => {
      const channelId = channels[i % CHANNELS]!
      const seq = seqs.get(channelId)! + 1
      seqs.set(channelId, seq)
      return { id: messageIdOf(channelId, seq), channelId, seq, authorId: UserId.make("a"), body: "x".repeat(60), clientMsgId: `k${seq}`, createdAt: Date.now() }
    })
  const fencedInsert = (rows: ReadonlyArray<Message>): Effect.Effect<unknown, unknown> => INSERT(store, rows, epochs)
  /** The statement before fencing (PlexiChat up to migration 0001), for comparison. */
  const plainInsert = (rows: ReadonlyArray<Message>): Effect.Effect<unknown, unknown> =>
    sql.unsafe(
      `INSERT INTO plexi_messages (channel_id, seq, author_id, client_msg_id, body, created_at)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[])`,
      [rows.map((m) => m.channelId), rows.map((m) => m.seq), rows.map((m) => m.authorId), rows.map((m) => m.clientMsgId),
        rows.map((m) => m.body), rows.map((m) => m.createdAt)]
    )
  for (let i = 0; i < 10; i++) yield* fencedInsert(batch()) // warm-up
  for (let i = 0; i < 10; i++) yield* plainInsert(batch())
  const totals = { plain: 0, fenced: 0 }
  // Alternate short rounds, so that both variants see the same machine load.
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, insert] of [["plain", plainInsert], ["fenced", fencedInsert]] as const) {
      const work = Array.from({ length: STATEMENTS / ROUNDS }, batch)
      const start = performance.now()
      yield* Effect.forEach(work, insert, { concurrency: CONCURRENCY, discard: true })
      totals[name] += performance.now() - start
    }
  }
  for (const [name, ms] of Object.entries(totals)) {
    console.log(`${name}: ${STATEMENTS} statements of ${BATCH} rows, concurrency ${CONCURRENCY}: ${Math.round((STATEMENTS * BATCH) / (ms / 1000))} rows/s`)
  }
  const n = yield* sql<{ n: string }>`SELECT count(*) AS n FROM plexi_messages`
  console.log(`rows stored: ${n[0]!.n}`)
})

/** The insert under test (adapted to the store's signature). */
const INSERT = (store: MessageStore, rows: ReadonlyArray<Message>, epochs: Map<ChannelId, number>) => {
  const byChannel = new Map<ChannelId, Array<Message>>()
  for (const m of rows) byChannel.set(m.channelId, [...(byChannel.get(m.channelId) ?? []), m])
  return store.insertMessages(Array.from(byChannel, ([channelId, own]) => ({ channelId, epoch: epochs.get(channelId)!, rows: own })))
}

const main = async () => {
  const db = await makeTestDatabase()
  try {
    if (db.kind !== "postgres") throw new Error("needs a real Postgres")
    await Effect.runPromise(program.pipe(
      Effect.provide(MessageStore.Default.pipe(Layer.provideMerge(migrated(layerPostgres(Redacted.make(db.url), { maxConnections: 4 }))))),
      Effect.scoped
    ))
  } finally {
    await db.drop()
  }
}
void main()
