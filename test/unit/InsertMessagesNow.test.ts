/**
 * The group commit's INSERT without a fiber (`MessageRows.insertMessagesNow`)
 * on the node's own `pg` pool, over PGlite's one connection: it writes what
 * `insertMessages` writes, reports fenced requests the same way, and a
 * statement Postgres refuses fails with the server's error while the
 * connection stays usable (PGlite serves one connection: a dropped one would
 * fail the next statement).
 */
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import type { Message } from "../../domain/Channel.ts"
import { ChannelId, messageIdOf, UserId } from "../../domain/Ids.ts"
import { CREATED_EPOCH, type FencedRows, type InsertExit, isRowRefused, MessageStore } from "../../src/messaging/MessageStore.ts"
import { PgPool } from "../../src/messaging/store/PgPool.ts"
import { migrated, pgliteMemory } from "../fixtures/InMemoryCluster.ts"

const TestLayer = MessageStore.Default.pipe(Layer.provideMerge(migrated(pgliteMemory)))

const message = (channelId: ChannelId, seq: number, body = `message ${seq}`): Message => ({
  id: messageIdOf(channelId, seq),
  channelId,
  seq,
  authorId: UserId.make("alice"),
  body,
  clientMsgId: `m${seq}`,
  createdAt: 1_700_000_000_000 + seq
})

let channels = 0
const freshChannel = Effect.fnUntraced(function*() {
  const store = yield* MessageStore
  const id = ChannelId.make(`now_${channels++}`)
  yield* store.createChannel({ id, name: "now", visibility: "public", createdBy: UserId.make("alice"), createdAt: 0, members: [] }, Option.none())
  return id
})

const insertNow = (requests: ReadonlyArray<FencedRows>) =>
  Effect.flatMap(MessageStore, (store) => Effect.async<InsertExit>((resume) => store.insertMessagesNow(requests, (exit) => resume(Effect.succeed(exit)))))

const bodies = (sql: SqlClient.SqlClient, channelId: ChannelId) =>
  Effect.map(sql<{ body: string }>`SELECT body FROM plexi_messages WHERE channel_id = ${channelId} ORDER BY seq`, (rows) => rows.map((r) => r.body))

layer(TestLayer, { excludeTestServices: true, timeout: "60 seconds" })("insertMessagesNow", (it) => {
  it.effect("runs on the node's pg pool, not through @effect/sql", () =>
    Effect.gen(function*() {
      expect(Option.isSome(yield* Effect.serviceOption(PgPool))).toBe(true)
    }))

  it.effect("writes the rows of several channels in one statement and says which requests were fenced", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const [a, b, c] = [yield* freshChannel(), yield* freshChannel(), yield* freshChannel()]
      const exit = yield* insertNow([
        { channelId: a, epoch: CREATED_EPOCH, rows: [message(a, 1), message(a, 2)] },
        { channelId: b, epoch: CREATED_EPOCH + 1, rows: [message(b, 1)] }, // a stale epoch: fenced
        { channelId: c, epoch: CREATED_EPOCH, rows: [message(c, 1)] }
      ])
      expect(exit).toEqual(Exit.succeed([true, false, true]))
      expect(yield* bodies(sql, a)).toEqual(["message 1", "message 2"])
      expect(yield* bodies(sql, b)).toEqual([])
      expect(yield* bodies(sql, c)).toEqual(["message 1"])
    }))

  it.effect("a statement Postgres refuses fails with its error, writes nothing, and the connection stays usable", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const a = yield* freshChannel()
      // A NUL byte is a value Postgres refuses in text (22021), after the statement reached the server.
      const exit = yield* insertNow([{ channelId: a, epoch: CREATED_EPOCH, rows: [message(a, 1), message(a, 2, "bad \u0000 byte")] }])
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      expect(Option.isSome(error) && error.value._tag === "SqlError" && isRowRefused(error.value)).toBe(true)
      expect(yield* bodies(sql, a)).toEqual([])
      // The same connection (PGlite's only one) takes the next statement, from both clients.
      expect(yield* insertNow([{ channelId: a, epoch: CREATED_EPOCH, rows: [message(a, 1)] }])).toEqual(Exit.succeed([true]))
      expect(yield* bodies(sql, a)).toEqual(["message 1"])
    }))
})
