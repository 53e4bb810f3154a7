/**
 * The group-commit writer over an in-memory PGlite, with the real
 * MessageStore wrapped so that every INSERT statement is counted (and can be
 * held back with a gate, to line requests up into one batch). Tests wait for
 * conditions (the writer's backlog, arrivals at the gate), never for time.
 */
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Option, Schedule, Scope, TestClock } from "effect"
import type { Message } from "../../domain/Channel.ts"
import { ChannelId, messageIdOf, UserId } from "../../domain/Ids.ts"
import { GroupCommitWriter } from "../../src/messaging/GroupCommitWriter.ts"
import { CREATED_EPOCH, insertNowVia, MessageStore } from "../../src/messaging/MessageStore.ts"
import { migrated, pgliteMemory } from "../fixtures/InMemoryCluster.ts"

/** Rows carried by each INSERT statement, in order. */
const statements: Array<number> = []
/** While set, every INSERT waits for it before running. */
let gate: Deferred.Deferred<void> | undefined
/** Resolved when an INSERT reaches the gate. */
let reachedGate: Deferred.Deferred<void> | undefined
/** INSERTs that reached the gate since it was set. */
let arrivals = 0

const SpyStore = Layer.effect(
  MessageStore,
  Effect.gen(function*() {
    const real = yield* MessageStore
    const insertMessages: MessageStore["insertMessages"] = (requests) =>
      Effect.suspend(() => {
        statements.push(requests.reduce((n, r) => n + r.rows.length, 0))
        const waiting = gate
        if (waiting === undefined) return Effect.void
        arrivals++
        return Effect.zipRight(reachedGate ? Deferred.succeed(reachedGate, undefined) : Effect.void, Deferred.await(waiting))
      }).pipe(Effect.zipRight(real.insertMessages(requests)))
    // The writer calls `insertMessagesNow`: through the spied INSERT.
    return MessageStore.make({ ...real, insertMessages, insertMessagesNow: yield* insertNowVia(insertMessages) })
  })
).pipe(Layer.provide(MessageStore.Default))

const MAX_BATCH_ROWS = 50

const TestLayer = GroupCommitWriter.layer({ flushers: 1, maxBatchRows: MAX_BATCH_ROWS, lingerMs: 0 }).pipe(
  Layer.provideMerge(SpyStore),
  Layer.provideMerge(migrated(pgliteMemory))
)

let channels = 0
/** A new channel row (the writer only writes to channels that exist, with their epoch). */
const freshChannel = Effect.fnUntraced(function*() {
  const store = yield* MessageStore
  const id = ChannelId.make(`gcw_${channels++}`)
  yield* store.createChannel({ id, name: "gcw", visibility: "public", createdBy: UserId.make("alice"), createdAt: 0, members: [] }, Option.none())
  return id
})
const freshChannels = (n: number) => Effect.all(Array.from({ length: n }, () => freshChannel()))

/** Writes one request's rows (all of one channel) with the creator's epoch. */
const write = (rows: ReadonlyArray<Message>) =>
  Effect.flatMap(GroupCommitWriter, (writer) => writer.write(rows[0]?.channelId ?? ChannelId.make("none"), CREATED_EPOCH, rows))

/** Waits until `n` requests are queued behind the flushers. */
const backlogReaches = (n: number) =>
  Effect.flatMap(GroupCommitWriter, (writer) =>
    writer.backlog.pipe(
      Effect.repeat({ schedule: Schedule.spaced("2 millis"), until: (size) => size >= n }),
      Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error(`backlog never reached ${n}`) })
    ))

/** Waits until `n` INSERTs are held at the gate. */
const arrivalsReach = (n: number) =>
  Effect.sync(() => arrivals).pipe(
    Effect.repeat({ schedule: Schedule.spaced("2 millis"), until: (count) => count >= n }),
    Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error(`${n} INSERTs never reached the gate`) })
  )

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
  arrivals = 0
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
        const sql = yield* SqlClient.SqlClient
        const requests = 200
        const channelIds = yield* freshChannels(10)
        const before = statements.length
        // caller i writes seq (i div 10) + 1 of channel (i mod 10): two rows for every third caller
        yield* Effect.forEach(
          Array.from({ length: requests }, (_, i) => i),
          (i) => {
            const channelId = channelIds[i % 10]!
            const base = Math.floor(i / 10) * 2 + 1
            return write(i % 3 === 0 ? [message(channelId, base), message(channelId, base + 1)] : [message(channelId, base)])
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
        const sql = yield* SqlClient.SqlClient
        const channelId = yield* freshChannel()
        const hold = yield* holdFlusher
        const before = statements.length
        const first = yield* Effect.fork(write([message(channelId, 1)]))
        yield* hold.reached
        const queued = 120
        const rest = yield* Effect.fork(Effect.forEach(
          Array.from({ length: queued }, (_, i) => i + 2),
          (seq) => write([message(channelId, seq)]),
          { concurrency: "unbounded", discard: true }
        ))
        // every caller enqueued while the flusher is held
        yield* backlogReaches(queued)
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
        const sql = yield* SqlClient.SqlClient
        const channelA = yield* freshChannel()
        const channelB = yield* freshChannel()
        const hold = yield* holdFlusher
        const before = statements.length
        const first = yield* Effect.fork(write([message(channelA, 1)]))
        yield* hold.reached
        const rows = (channelId: ChannelId) => Array.from({ length: 30 }, (_, i) => message(channelId, i + 1))
        const a = yield* Effect.fork(write(rows(channelB)))
        yield* backlogReaches(1)
        const b = yield* Effect.fork(write(rows(channelA).map((m) => message(channelA, m.seq + 1))))
        yield* backlogReaches(2)
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
        const before = statements.length
        yield* write([])
        expect(statements.length).toBe(before)
      }))
  })

  describe("acknowledgement", () => {
    it.effect("a write returns only after its rows committed", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const channelId = yield* freshChannel()
        const hold = yield* holdFlusher
        const fiber = yield* Effect.fork(write([message(channelId, 1), message(channelId, 2)]))
        yield* hold.reached
        // the INSERT is held: the caller is still waiting and nothing is visible
        expect(fiber.unsafePoll()).toBeNull()
        expect(yield* countRows(sql, channelId)).toBe(0)
        yield* hold.open
        yield* Fiber.join(fiber)
        expect(yield* countRows(sql, channelId)).toBe(2)
      }))

    it.effect("every concurrent caller sees its own rows in the database when its write returns", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const channelIds = yield* freshChannels(40)
        const visible = yield* Effect.forEach(
          channelIds,
          (channelId) =>
            write([message(channelId, 1), message(channelId, 2), message(channelId, 3)]).pipe(
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
        const sql = yield* SqlClient.SqlClient
        const channelId = yield* freshChannel()
        yield* write([message(channelId, 1)])

        const hold = yield* holdFlusher
        const before = statements.length
        const blocker = yield* Effect.fork(write([message(channelId, 2)]))
        yield* hold.reached
        // queued behind the held INSERT, so they form one batch:
        const good1 = yield* Effect.fork(Effect.exit(write([message(channelId, 3), message(channelId, 4)])))
        // seq 5 is fine but seq 1 already exists: the whole request must fail, and write neither row
        const bad = yield* Effect.fork(Effect.exit(write([message(channelId, 5, "fresh"), message(channelId, 1, "dup")])))
        const good2 = yield* Effect.fork(Effect.exit(write([message(channelId, 6)])))
        yield* backlogReaches(3)
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
        yield* write([message(channelId, 5)])
        expect(yield* seqsOf(sql, channelId)).toEqual([1, 2, 3, 4, 5, 6])
      }))

    it.effect("a request with a stale epoch fails ChannelFenced and writes nothing; the others in its batch commit", () =>
      Effect.gen(function*() {
        const store = yield* MessageStore
        const sql = yield* SqlClient.SqlClient
        const [stale, fresh] = yield* freshChannels(2)
        // a newer incarnation claims `stale`: epoch 1 is no longer its owner's
        const claimed = yield* store.claimChannel(stale!, Option.none())
        expect(claimed._tag === "Claimed" && claimed.epoch).toBe(CREATED_EPOCH + 1)

        const hold = yield* holdFlusher
        const blocker = yield* Effect.fork(write([message(fresh!, 1)]))
        yield* hold.reached
        const refused = yield* Effect.fork(Effect.exit(write([message(stale!, 1), message(stale!, 2)])))
        const other = yield* Effect.fork(Effect.exit(write([message(fresh!, 2)])))
        yield* backlogReaches(2)
        const before = statements.length
        yield* hold.open
        yield* Fiber.join(blocker)
        const [r, o] = [yield* Fiber.join(refused), yield* Fiber.join(other)]
        expect(Exit.isSuccess(o)).toBe(true)
        expect(Exit.isFailure(r) && Cause.failureOption(r.cause)).toMatchObject({
          _tag: "Some",
          value: { _tag: "ChannelFenced", channelId: stale, epoch: CREATED_EPOCH }
        })
        // one statement for both requests: a fenced request is no failure to isolate
        expect(statements.slice(before)).toEqual([3])
        expect(yield* countRows(sql, stale!)).toBe(0)
        expect(yield* seqsOf(sql, fresh!)).toEqual([1, 2])

        // the new epoch writes
        const writer = yield* GroupCommitWriter
        yield* writer.write(stale!, CREATED_EPOCH + 1, [message(stale!, 1)])
        expect(yield* seqsOf(sql, stale!)).toEqual([1])
      }))

    it.effect("a request failing on its own fails its caller and nothing else", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const channelId = yield* freshChannel()
        yield* write([message(channelId, 1)])
        const again = yield* Effect.exit(write([message(channelId, 1, "other")]))
        expect(Exit.isFailure(again)).toBe(true)
        yield* write([message(channelId, 2)])
        expect(yield* seqsOf(sql, channelId)).toEqual([1, 2])
      }))
  })
})

/** Two flushers, as on Postgres by default; small batches so that requests overflow them. */
const TwoFlushers = GroupCommitWriter.layer({ flushers: 2, maxBatchRows: 10, lingerMs: 0 }).pipe(
  Layer.provideMerge(SpyStore),
  Layer.provideMerge(migrated(pgliteMemory))
)

layer(TwoFlushers, { excludeTestServices: true, timeout: "60 seconds" })("GroupCommitWriter with two flushers", (it) => {
  it.effect("acknowledges every request when several overflow maxBatchRows while both flushers are busy", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const channelIds = yield* freshChannels(6)
      const hold = yield* holdFlusher
      const writes = yield* Effect.forEach(
        channelIds,
        (channelId) => Effect.fork(write(Array.from({ length: 8 }, (_, i) => message(channelId, i + 1)))),
        { concurrency: "unbounded" }
      )
      // both flushers are inside an INSERT, the other requests wait or are carried
      yield* arrivalsReach(2)
      yield* hold.open
      const exits = yield* Effect.forEach(writes, (fiber) => Fiber.await(fiber).pipe(Effect.timeout("10 seconds")))
      for (const exit of exits) expect(Exit.isSuccess(exit)).toBe(true)
      for (const channelId of channelIds) expect(yield* countRows(sql, channelId)).toBe(8)
    }))
})

/** Two flushers lingering 5 ms (on the TestClock), as thin traffic on Postgres sees them. */
const LINGER_MS = 5
const lingering = (lingerMs: number) =>
  GroupCommitWriter.layer({ flushers: 2, maxBatchRows: 10, lingerMs }).pipe(
    Layer.provideMerge(SpyStore),
    Layer.provideMerge(migrated(pgliteMemory))
  )
const Lingering = lingering(LINGER_MS)

/** Lets forked fibers and PGlite's promises run (the TestClock stands still meanwhile). */
const untilTrue = (check: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000; i++) {
      if (yield* check) return
      yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
    }
    throw new Error("condition never held")
  })

layer(Lingering, { timeout: "60 seconds" })("GroupCommitWriter lingering for thin traffic", (it) => {
  it.effect("requests for different channels within lingerMs of the first share one INSERT, and nothing is written before", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const writer = yield* GroupCommitWriter
      const channelIds = yield* freshChannels(3)
      const before = statements.length
      const writes = yield* Effect.forEach(channelIds, (channelId) => Effect.fork(write([message(channelId, 1)])))
      // One flusher lingers with the first request; the other waits for it rather than taking the next.
      yield* untilTrue(Effect.map(writer.backlog, (n) => n === 2))
      yield* TestClock.adjust(LINGER_MS - 1)
      yield* untilTrue(Effect.map(writer.backlog, (n) => n === 2))
      expect(statements.slice(before)).toEqual([])
      yield* TestClock.adjust(1)
      for (const fiber of writes) yield* Fiber.join(fiber)
      expect(statements.slice(before)).toEqual([3])
      for (const channelId of channelIds) expect(yield* countRows(sql, channelId)).toBe(1)
    }))

  it.effect("a channel's next request after a batch of its own alone is written at once; another channel's lingers", () =>
    Effect.gen(function*() {
      const writer = yield* GroupCommitWriter
      const [a, b] = yield* freshChannels(2)
      const before = statements.length
      const first = yield* Effect.fork(write([message(a!, 1)]))
      yield* untilTrue(Effect.map(writer.backlog, (n) => n === 0))
      expect(statements.slice(before)).toEqual([])
      yield* TestClock.adjust(LINGER_MS)
      yield* Fiber.join(first)
      // No clock step: the channel was alone in its last batch, so nothing would join it.
      yield* write([message(a!, 2)])
      expect(statements.slice(before)).toEqual([1, 1])
      // The same writer still lingers for another channel's request.
      const other = yield* Effect.fork(write([message(b!, 1)]))
      yield* untilTrue(Effect.map(writer.backlog, (n) => n === 0))
      // Taken by a flusher, which lingers: many rounds of the event loop later it is still not written.
      let rounds = 0
      yield* untilTrue(Effect.sync(() => ++rounds >= 200))
      expect(statements.slice(before)).toEqual([1, 1])
      yield* TestClock.adjust(LINGER_MS)
      yield* Fiber.join(other)
      expect(statements.slice(before)).toEqual([1, 1, 1])
    }))

  it.effect("a request already lingerMs old when a flusher takes it (the flushers were busy) is written at once", () =>
    Effect.gen(function*() {
      const channelIds = yield* freshChannels(3)
      const hold = yield* holdFlusher
      const before = statements.length
      const busy = []
      for (const [i, channelId] of channelIds.slice(0, 2).entries()) {
        busy.push(yield* Effect.fork(write([message(channelId, 1)])))
        yield* TestClock.adjust(LINGER_MS)
        yield* arrivalsReachNow(i + 1)
      }
      // Both flushers are inside an INSERT; the third request queues behind them and grows old.
      const late = yield* Effect.fork(write([message(channelIds[2]!, 1)]))
      yield* TestClock.adjust(LINGER_MS)
      yield* hold.open
      // No further clock step: it does not linger.
      yield* Fiber.join(late)
      for (const fiber of busy) yield* Fiber.join(fiber)
      expect(statements.slice(before).sort()).toEqual([1, 1, 1])
    }))
})

/** `arrivalsReach` without the live-clock schedule. */
const arrivalsReachNow = (n: number) => untilTrue(Effect.sync(() => arrivals >= n))

/** A writer in a scope of its own (so that a test can stop it) on the shared store, and a fresh channel. */
const ownWriter = (stopFlushMs?: number) =>
  Effect.gen(function*() {
    const channelId = yield* freshChannel()
    const scope = yield* Scope.make()
    const options = { flushers: 1, maxBatchRows: 2, lingerMs: 0, ...(stopFlushMs === undefined ? {} : { stopFlushMs }) }
    const writer = yield* GroupCommitWriter.make(options).pipe(Scope.extend(scope))
    const writeOne = (seq: number) => writer.write(channelId, CREATED_EPOCH, [message(channelId, seq)])
    return { channelId, scope, writeOne }
  })

layer(TestLayer, { excludeTestServices: true, timeout: "60 seconds" })("GroupCommitWriter stop", (it) => {
  it.effect("commits and acknowledges the write in flight and the ones queued behind it before the writer stops", () =>
    Effect.gen(function*() {
      const hold = yield* holdFlusher
      const { channelId, scope, writeOne } = yield* ownWriter()
      // One INSERT held in flight (maxBatchRows 2: the first two rows), two more requests queued behind it.
      const writes = yield* Effect.forEach([1, 2, 3, 4], (seq) => Effect.fork(writeOne(seq)))
      yield* hold.reached
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* hold.open
      yield* Fiber.join(closing)
      for (const fiber of writes) expect(Exit.isSuccess(yield* Fiber.await(fiber))).toBe(true)
      expect(yield* seqsOf(yield* SqlClient.SqlClient, channelId)).toEqual([1, 2, 3, 4])
    }))

  it.effect("answers what is still unwritten as interrupted once stopFlushMs has passed", () =>
    Effect.gen(function*() {
      const hold = yield* holdFlusher
      const { scope, writeOne } = yield* ownWriter(50)
      const write = yield* Effect.fork(writeOne(1))
      yield* hold.reached
      // The INSERT does not return: the stop gives up after 50 ms and the caller hears "interrupted", not nothing.
      yield* Scope.close(scope, Exit.void)
      expect(Exit.isInterrupted(yield* Fiber.await(write))).toBe(true)
      yield* hold.open
    }))
})

/** Lingering on the live clock: the writer waits on a plain timer (`sleeper`), not on a fiber's sleep. */
const LingeringLive = lingering(20)

layer(LingeringLive, { excludeTestServices: true, timeout: "60 seconds" })("GroupCommitWriter lingering on the live clock", (it) => {
  it.effect("requests for different channels within lingerMs of the first share one INSERT", () =>
    Effect.gen(function*() {
      const channelIds = yield* freshChannels(3)
      const before = statements.length
      const writes = yield* Effect.forEach(channelIds, (channelId) => Effect.fork(write([message(channelId, 1)])))
      for (const fiber of writes) yield* Fiber.join(fiber)
      expect(statements.slice(before)).toEqual([3])
    }))
})
