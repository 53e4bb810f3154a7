/**
 * Group commit for chat messages: callers hand in the rows of one request
 * and wait; a few flusher fibers take everything queued so far and write it
 * with one multi-row INSERT, then acknowledge every request in that batch.
 * Under load the batches grow by themselves, so a handful of statements a
 * second carry tens of thousands of messages.
 *
 * A request is acknowledged only after its rows committed. When a combined
 * batch fails, each request in it is retried on its own, so one bad request
 * never fails (or partially writes) another's rows.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Deferred, Effect, Exit, Layer, Queue } from "effect"
import type { Message } from "../../domain/Channel.ts"
import { MessageStore } from "./MessageStore.ts"

export interface GroupCommitOptions {
  /** Flushers running at once; each holds one connection while it writes. */
  readonly flushers: number
  /** The most rows one INSERT carries. */
  readonly maxBatchRows: number
}

interface Pending {
  readonly rows: ReadonlyArray<Message>
  readonly done: Deferred.Deferred<void, SqlError>
}

export class GroupCommitWriter extends Context.Tag("plexichat/GroupCommitWriter")<GroupCommitWriter, {
  /** Commits the rows (one channel's batch); resolves after the commit. */
  readonly write: (rows: ReadonlyArray<Message>) => Effect.Effect<void, SqlError>
}>() {
  static readonly make = Effect.fnUntraced(function*(options: GroupCommitOptions) {
    const store = yield* MessageStore
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Pending>(), Queue.shutdown)

    const complete = (batch: ReadonlyArray<Pending>, exit: Exit.Exit<void, SqlError>) =>
      Effect.forEach(batch, (p) => Deferred.done(p.done, exit), { discard: true })

    /** One flusher: takes what is queued, writes it as one INSERT, acknowledges. */
    const flusher = Effect.suspend(() => {
      // A request that would push a batch past `maxBatchRows` waits here for
      // this flusher's next batch (each flusher has its own).
      let carried: Pending | undefined

      const flushOnce = Effect.gen(function*() {
        const first = carried ?? (yield* Queue.take(queue))
        carried = undefined
        const batch: Array<Pending> = [first]
        let rows = first.rows.length
        while (rows < options.maxBatchRows) {
          const next = yield* Queue.poll(queue)
          if (next._tag === "None") break
          if (rows + next.value.rows.length > options.maxBatchRows) {
            carried = next.value
            break
          }
          batch.push(next.value)
          rows += next.value.rows.length
        }
        const all = batch.length === 1 ? first.rows : batch.flatMap((p) => p.rows)
        const exit = yield* Effect.exit(store.insertMessages(all))
        if (Exit.isSuccess(exit) || batch.length === 1) return yield* complete(batch, exit)
        // Isolate the failure: every request commits or fails on its own.
        yield* Effect.forEach(batch, (p) =>
          Effect.exit(store.insertMessages(p.rows)).pipe(
            Effect.flatMap((own) => Deferred.done(p.done, own))
          ), { discard: true })
      })

      return Effect.forever(flushOnce)
    })

    yield* Effect.replicateEffect(Effect.forkScoped(flusher), options.flushers)

    return GroupCommitWriter.of({
      write: (rows) =>
        rows.length === 0 ? Effect.void : Effect.flatMap(
          Deferred.make<void, SqlError>(),
          (done) => Effect.zipRight(Queue.offer(queue, { rows, done }), Deferred.await(done))
        )
    })
  })

  static readonly layer = (options: GroupCommitOptions) => Layer.scoped(GroupCommitWriter, GroupCommitWriter.make(options))
}
