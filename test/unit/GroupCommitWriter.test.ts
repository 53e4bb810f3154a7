/**
 * The group-commit writer over an in-memory PGlite, with the real
 * MessageStore wrapped so that every INSERT statement is counted (and can be
 * held back with a gate, to line requests up into one batch).
 */
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Deferred, Effect, Exit, Fiber, Layer } from "effect"
import type { Message } from "../../domain/Channel.ts"
import { ChannelId, messageIdOf, UserId } from "../../domain/Ids.ts"
import { GroupCommitWriter } from "../../src/messaging/GroupCommitWriter.ts"
import { MessageStore } from "../../src/messaging/MessageStore.ts"
import { migrated, pgliteMemory } from "../fixtures/InMemoryCluster.ts"

/** Rows carried by each INSERT statement, in order. */
const statements: Array<number> = []
/** While set, every INSERT waits for it before running. */
let gate: Deferred.Deferred<void> | undefined
/** Resolved when an INSERT reaches the gate. */
let reachedGate: Deferred.Deferred<void> | undefined

const SpyStore = Layer.effect(
  MessageStore,
  Effect.map(MessageStore, (real) =>
    MessageStore.make({
      ...real,
      insertMessages: (rows) =>
        Effect.suspend(() => {
          statements.push(rows.length)
          const waiting = gate
          if (waiting === undefined) return Effect.void
          return Effect.zipRight(reachedGate ? Deferred.succeed(reachedGate, undefined) : Effect.void, Deferred.await(waiting))
        }).pipe(Effect.zipRight(real.insertMessages(rows)))
    }))
).pipe(Layer.provide(MessageStore.Default))

const MAX_BATCH_ROWS = 50

const TestLayer = GroupCommitWriter.layer({ flushers: 1, maxBatchRows: MAX_BATCH_ROWS }).pipe(
  Layer.provideMerge(SpyStore),
  Layer.provideMerge(migrated(pgliteMemory))
)

let channels = 0
const freshChannel = () => ChannelId.make(`gcw_${channels++}`)

const message = (channelId: ChannelId, seq: number, clientMsgId = `m${seq}`): Message => ({
  id: messageIdOf(channelId, seq),
  channelId,
  seq,
  authorId: UserId.make("alice"),
  body: `message ${seq}`,
  clientMsgId,
  createdAt: 1_700_000_000_000 + seq
})

const countRows = (sql: SqlClient.SqlClient, channelId: ChannelId) =>
  sql<{ n: string | number }>`SELECT count(*) AS n FROM plexi_messages WHERE channel_id = ${channelId}`.pipe(
    Effect.map((rows) => Number(rows[0]!.n))
  )

const seqsOf = (sql: SqlClient.SqlClient, channelId: ChannelId) =>
  sql<{ seq: string | number }>`SELECT seq FROM plexi_messages WHERE channel_id = ${channelId} ORDER BY seq`.pipe(
    Effect.map((rows) => rows.map((r) => Number(r.seq)))
  )

/** Holds the flusher inside its first INSERT until the returned effect runs. */
const holdFlusher = Effect.gen(function*() {
  gate = yield* Deferred.make<void>()
  reachedGate = yield* Deferred.make<void>()
  const reached = reachedGate
  const open = gate
  return {
    reached: Deferred.await(reached),
    open: Effect.sync(() => {
      gate = undefined
      reachedGate = undefined
    }).pipe(Effect.zipRight(Deferred.succeed(open, undefined)))
  }
})

layer(TestLayer, { excludeTestServices: true, timeout: "60 seconds" })("GroupCommitWriter", (it) => {
  describe("batching", () => {
    it.effect("concurrent writes from many callers share INSERT statements", () =>
      Effect.gen(function*() {
        const writer = yield* GroupCommitWriter
        const sql = yield* SqlClient.SqlClient
        const requests = 200
        const channelIds = Array.from({ length: 10 }, freshChannel)
        const before = statements.length
        // caller i writes seq (i div 10) + 1 of channel (i mod 10): two rows for every third caller
        yield* Effect.forEach(
          Array.from({ length: requests }, (_, i) => i),
          (i) => {
            const channelId = channelIds[i % 10]!
            const base = Math.floor(i / 10) * 2 + 1
            return writer.write(i % 3 === 0 ? [message(channelId, base), message(channelId, base + 1)] : [message(channelId, base)])
          },
          { concurrency: "unbounded", discard: true }
        )
        const used = statements.slice(before)
        expect(used.length).toBeLessThan(requests)
        expect(used.length).toBeGreaterThan(0)
        const expectedRows = Array.from({ length: requests }, (_, i) => (i % 3 === 0 ? 2 : 1)).reduce((a, b) => a + b, 0)
        expect(used.reduce((a, b) => a + b, 0)).toBe(expectedRows)
        let inDb = 0
        for (const c of channelIds) inDb += yield* countRows(sql, c)
        expect(inDb).toBe(expectedRows)
      }))

    it.effect("requests queued behind a running INSERT go out together, up to maxBatchRows", () =>
      Effect.gen(function*() {
        const writer = yield* GroupCommitWriter
        const sql = yield* SqlClient.SqlClient
        const channelId = freshChannel()
        const hold = yield* holdFlusher
        const before = statements.length
        const first = yield* Effect.fork(writer.write([message(channelId, 1)]))
        yield* hold.reached
        const queued = 120
        const rest = yield* Effect.fork(Effect.forEach(
          Array.from({ length: queued }, (_, i) => i + 2),
          (seq) => writer.write([message(channelId, seq)]),
          { concurrency: "unbounded", discard: true }
        ))
        // let every caller enqueue while the flusher is held
        yield* Effect.sleep("300 millis")
        yield* hold.open
        yield* Fiber.join(first)
        yield* Fiber.join(rest)
        const used = statements.slice(before)
        // 1 (held) + ceil(120 / 50) batches
        expect(used).toEqual([1, MAX_BATCH_ROWS, MAX_BATCH_ROWS, queued - 2 * MAX_BATCH_ROWS])
        expect(yield* seqsOf(sql, channelId)).toEqual(Array.from({ length: queued + 1 }, (_, i) => i + 1))
      }))

    it.effect("a request that would push a batch past maxBatchRows waits for the next INSERT", () =>
      Effect.gen(function*() {
        const writer = yield* GroupCommitWriter
        const sql = yield* SqlClient.SqlClient
        const channelA = freshChannel()
        const channelB = freshChannel()
        const hold = yield* holdFlusher
        const before = statements.length
        const first = yield* Effect.fork(writer.write([message(channelA, 1)]))
        yield* hold.reached
        const rows = (channelId: ChannelId) => Array.from({ length: 30 }, (_, i) => message(channelId, i + 1))
        const a = yield* Effect.fork(writer.write(rows(channelB)))
        yield* Effect.sleep("50 millis")
        const b = yield* Effect.fork(writer.write(rows(channelA).map((m) => message(channelA, m.seq + 1))))
        yield* Effect.sleep("200 millis")
        yield* hold.open
        yield* Fiber.join(first)
        yield* Fiber.join(a)
        yield* Fiber.join(b)
        const used = statements.slice(before)
        expect(used).toEqual([1, 30, 30])
        for (const size of used) expect(size).toBeLessThanOrEqual(MAX_BATCH_ROWS)
        expect(yield* countRows(sql, channelA)).toBe(31)
        expect(yield* countRows(sql, channelB)).toBe(30)
      }))

    it.effect("an empty write returns at once without a statement", () =>
      Effect.gen(function*() {
        const writer = yield* GroupCommitWriter
        const before = statements.length
        yield* writer.write([])
        expect(statements.length).toBe(before)
      }))
  })

  describe("acknowledgement", () => {
    it.effect("a write returns only after its rows committed", () =>
      Effect.gen(function*() {
        const writer = yield* GroupCommitWriter
        const sql = yield* SqlClient.SqlClient
        const channelId = freshChannel()
        const hold = yield* holdFlusher
        const fiber = yield* Effect.fork(writer.write([message(channelId, 1), message(channelId, 2)]))
        yield* hold.reached
        yield* Effect.sleep("50 millis")
        // the INSERT is held: the caller is still waiting and nothing is visible
        expect(fiber.unsafePoll()).toBeNull()
        expect(yield* countRows(sql, channelId)).toBe(0)
        yield* hold.open
        yield* Fiber.join(fiber)
        expect(yield* countRows(sql, channelId)).toBe(2)
      }))

    it.effect("every concurrent caller sees its own rows in the database when its write returns", () =>
      Effect.gen(function*() {
        const writer = yield* GroupCommitWriter
        const sql = yield* SqlClient.SqlClient
        const channelIds = Array.from({ length: 40 }, freshChannel)
        const visible = yield* Effect.forEach(
          channelIds,
          (channelId) =>
            writer.write([message(channelId, 1), message(channelId, 2), message(channelId, 3)]).pipe(
              Effect.zipRight(countRows(sql, channelId))
            ),
          { concurrency: "unbounded" }
        )
        expect(visible).toEqual(channelIds.map(() => 3))
      }))
  })

  describe("isolation", () => {
    it.effect("a failing request fails only its own caller; the others in its batch commit", () =>
      Effect.gen(function*() {
        const writer = yield* GroupCommitWriter
        const sql = yield* SqlClient.SqlClient
        const channelId = freshChannel()
        yield* writer.write([message(channelId, 1)])

        const hold = yield* holdFlusher
        const before = statements.length
        const blocker = yield* Effect.fork(writer.write([message(channelId, 2)]))
        yield* hold.reached
        // queued behind the held INSERT, so they form one batch:
        const good1 = yield* Effect.fork(Effect.exit(writer.write([message(channelId, 3), message(channelId, 4)])))
        // seq 5 is fine but seq 1 already exists: the whole request must fail, and write neither row
        const bad = yield* Effect.fork(Effect.exit(writer.write([message(channelId, 5, "fresh"), message(channelId, 1, "dup")])))
        const good2 = yield* Effect.fork(Effect.exit(writer.write([message(channelId, 6)])))
        yield* Effect.sleep("300 millis")
        yield* hold.open
        yield* Fiber.join(blocker)
        const [g1, b, g2] = [yield* Fiber.join(good1), yield* Fiber.join(bad), yield* Fiber.join(good2)]

        expect(Exit.isSuccess(g1)).toBe(true)
        expect(Exit.isSuccess(g2)).toBe(true)
        expect(Exit.isFailure(b)).toBe(true)
        if (Exit.isFailure(b)) expect(String(b.cause)).toMatch(/SqlError|duplicate|unique/i)
        // held INSERT, the combined batch (5 rows, failed), then each request on its own
        expect(statements.slice(before)).toEqual([1, 5, 2, 2, 1])
        expect(yield* seqsOf(sql, channelId)).toEqual([1, 2, 3, 4, 6])

        // the writer keeps working after a failure
        yield* writer.write([message(channelId, 5)])
        expect(yield* seqsOf(sql, channelId)).toEqual([1, 2, 3, 4, 5, 6])
      }))

    it.effect("a request failing on its own fails its caller and nothing else", () =>
      Effect.gen(function*() {
        const writer = yield* GroupCommitWriter
        const sql = yield* SqlClient.SqlClient
        const channelId = freshChannel()
        yield* writer.write([message(channelId, 1)])
        const again = yield* Effect.exit(writer.write([message(channelId, 1, "other")]))
        expect(Exit.isFailure(again)).toBe(true)
        yield* writer.write([message(channelId, 2)])
        expect(yield* seqsOf(sql, channelId)).toEqual([1, 2])
      }))
  })
})

/** Two flushers, as on Postgres by default; small batches so that requests overflow them. */
const TwoFlushers = GroupCommitWriter.layer({ flushers: 2, maxBatchRows: 10 }).pipe(
  Layer.provideMerge(SpyStore),
  Layer.provideMerge(migrated(pgliteMemory))
)

layer(TwoFlushers, { excludeTestServices: true, timeout: "60 seconds" })("GroupCommitWriter with two flushers", (it) => {
  it.effect("acknowledges every request when several overflow maxBatchRows while both flushers are busy", () =>
    Effect.gen(function*() {
      const writer = yield* GroupCommitWriter
      const sql = yield* SqlClient.SqlClient
      const channelIds = Array.from({ length: 6 }, freshChannel)
      const hold = yield* holdFlusher
      const writes = yield* Effect.forEach(
        channelIds,
        (channelId) => Effect.fork(writer.write(Array.from({ length: 8 }, (_, i) => message(channelId, i + 1)))),
        { concurrency: "unbounded" }
      )
      yield* hold.reached
      yield* Effect.sleep("200 millis")
      yield* hold.open
      const exits = yield* Effect.forEach(writes, (fiber) => Fiber.await(fiber).pipe(Effect.timeout("10 seconds")))
      for (const exit of exits) expect(Exit.isSuccess(exit)).toBe(true)
      for (const channelId of channelIds) expect(yield* countRows(sql, channelId)).toBe(8)
    }))
})
