/**
 * Group commit for chat messages: callers hand in the rows of one request
 * and wait; a few flusher fibers take everything queued so far and write it
 * with one multi-row INSERT, then acknowledge every request in that batch.
 * Under load the batches grow by themselves, so a handful of statements a
 * second carry tens of thousands of messages. Thin traffic (many channels, a
 * message each now and then) would find an idle flusher every time and pay a
 * statement, a round trip and a Postgres commit per message: so a batch
 * waits for company until its first request is `lingerMs` old, and while one
 * flusher lingers the others do not start a batch of their own. Under load
 * the first request is older than that already, and nothing waits.
 *
 * A request is acknowledged only after its rows committed. When a combined
 * batch fails, each request in it is retried on its own, so one bad request
 * never fails (or partially writes) another's rows. A request whose channel
 * was claimed by a newer owner fails `ChannelFenced` and writes nothing; the
 * others in its batch are unaffected.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Deferred, Effect, Exit, Layer, Queue } from "effect"
import type { Message } from "../../domain/Channel.ts"
import type { ChannelId } from "../../domain/Ids.ts"
import { ChannelFenced } from "./ChannelFenced.ts"
import { type FencedRows, MessageStore } from "./MessageStore.ts"
import { monotonicMillis } from "./PostDeadline.ts"

export interface GroupCommitOptions {
  /** Flushers running at once; each holds one connection while it writes. */
  readonly flushers: number
  /** The most rows one INSERT carries. */
  readonly maxBatchRows: number
  /** How old a batch's first request must be before the batch is written (0: at once). */
  readonly lingerMs: number
}

export type WriteError = SqlError | ChannelFenced

interface Pending extends FencedRows {
  readonly done: Deferred.Deferred<void, WriteError>
  /** When it was queued (the clock's monotonic millis). */
  readonly at: number
}

const outcome = (p: Pending, written: boolean): Exit.Exit<void, WriteError> =>
  written ? Exit.void : Exit.fail(new ChannelFenced({ channelId: p.channelId, epoch: p.epoch }))

/** Writes `batch` as one statement; on failure, each request on its own. */
const makeWriteBatch = (store: MessageStore) => (batch: ReadonlyArray<Pending>) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(store.insertMessages(batch))
    if (Exit.isSuccess(exit)) {
      for (let i = 0; i < batch.length; i++) yield* Deferred.done(batch[i]!.done, outcome(batch[i]!, exit.value[i]!))
      return
    }
    if (batch.length === 1) return yield* Deferred.done(batch[0]!.done, Exit.asVoid(exit))
    // Isolate the failure: every request commits or fails on its own.
    yield* Effect.forEach(batch, (p) =>
      Effect.exit(store.insertMessages([p])).pipe(
        Effect.flatMap((own) => Deferred.done(p.done, Exit.isSuccess(own) ? outcome(p, own.value[0]!) : Exit.asVoid(own)))
      ), { discard: true })
  }).pipe(
    // A flusher stopped mid-write still answers its batch (the outcome is then unknown to the caller).
    Effect.onInterrupt(() => Effect.forEach(batch, (p) => Deferred.interrupt(p.done), { discard: true }))
  )

export class GroupCommitWriter extends Context.Tag("plexichat/GroupCommitWriter")<GroupCommitWriter, {
  /**
   * Commits the rows of one request (one channel's batch), only while the
   * channel still has `epoch`; resolves after the commit.
   */
  readonly write: (channelId: ChannelId, epoch: number, rows: ReadonlyArray<Message>) => Effect.Effect<void, WriteError>
  /** Requests waiting for a flusher (not counting those being written). */
  readonly backlog: Effect.Effect<number>
}>() {
  static readonly make = Effect.fnUntraced(function*(options: GroupCommitOptions) {
    const store = yield* MessageStore
    const clock = yield* Effect.clock
    const queue = yield* Queue.unbounded<Pending>()
    // Held by the flusher that lingers, so that the others do not split its batch.
    const assembling = yield* Effect.makeSemaphore(1)
    // Requests still queued when the writer stops are failed, never left waiting.
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(Queue.takeAll(queue), (left) =>
        Effect.forEach(left, (p) => Deferred.interrupt(p.done), { discard: true })
      ).pipe(Effect.zipRight(Queue.shutdown(queue)))
    )

    const writeBatch = makeWriteBatch(store)

    /** One flusher: takes what is queued, writes it as one INSERT, acknowledges. */
    const flusher = Effect.suspend(() => {
      // A request that would push a batch past `maxBatchRows` waits here for
      // this flusher's next batch (each flusher has its own).
      let carried: Pending | undefined

      /** The batch's first request, held in `carried` until the batch is made (so an interruption answers it). */
      const takeFirst = Effect.uninterruptibleMask((restore) =>
        carried !== undefined ? Effect.succeed(carried) : Effect.map(restore(Queue.take(queue)), (p) => carried = p)
      )
      /** The first request, once it is `lingerMs` old (on the monotonic clock). */
      const lingered = Effect.flatMap(takeFirst, (first) => {
        const wait = first.at + options.lingerMs - monotonicMillis(clock)
        return wait > 0 ? Effect.as(Effect.sleep(wait), first) : Effect.succeed(first)
      })

      // Only waiting for work, lingering and writing are interruptible: requests taken off the queue are always in
      // `batch` (or `carried`) by the time an interruption can land, so each gets its answer.
      const flushOnce = Effect.uninterruptibleMask((restore) => Effect.gen(function*() {
        const first = yield* restore(options.lingerMs > 0 ? assembling.withPermits(1)(lingered) : takeFirst)
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
        yield* restore(writeBatch(batch))
      }))

      return Effect.forever(flushOnce).pipe(
        Effect.onInterrupt(() => carried === undefined ? Effect.void : Deferred.interrupt(carried.done))
      )
    })

    yield* Effect.replicateEffect(Effect.forkScoped(flusher), options.flushers)

    return GroupCommitWriter.of({
      write: (channelId, epoch, rows) =>
        rows.length === 0 ? Effect.void : Effect.flatMap(
          Deferred.make<void, WriteError>(),
          (done) =>
            Effect.zipRight(
              Queue.offer(queue, { channelId, epoch, rows, done, at: monotonicMillis(clock) }),
              Deferred.await(done)
            )
        ),
      backlog: Queue.size(queue)
    })
  })

  static readonly layer = (options: GroupCommitOptions) => Layer.scoped(GroupCommitWriter, GroupCommitWriter.make(options))
}
