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
 * the first request is older than that already, and nothing waits. Nor does
 * a channel's request when the batch before was that channel's alone: a
 * channel has one request in the writer at a time (the outbox sends its next
 * batch after the commit), so a lone busy channel would only wait for itself.
 *
 * A request is acknowledged only after its rows committed. When a combined
 * batch fails, each request in it is retried on its own, so one bad request
 * never fails (or partially writes) another's rows. A request whose channel
 * was claimed by a newer owner fails `ChannelFenced` and writes nothing; the
 * others in its batch are unaffected.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { type Clock, Context, Effect, Exit, FiberId, Layer, Schedule } from "effect"
import type { Message } from "../../domain/Channel.ts"
import type { ChannelId } from "../../domain/Ids.ts"
import { ChannelFenced } from "./ChannelFenced.ts"
import { type FencedRows, MessageStore } from "./MessageStore.ts"
import { monotonicMillis } from "./PostDeadline.ts"
import { commitBatchRows, commitLatencyMs, messagesPosted } from "../observability/ChatMetrics.ts"

export interface GroupCommitOptions {
  /** Flushers running at once; each holds one connection while it writes. */
  readonly flushers: number
  /** The most rows one INSERT carries. */
  readonly maxBatchRows: number
  /** How old a batch's first request must be before the batch is written (0: at once). */
  readonly lingerMs: number
  /** On stop, how long queued and in-flight writes get to commit before they are answered as interrupted (default 5 s). */
  readonly stopFlushMs?: number
}

const defaultStopFlushMs = 5_000

export type WriteError = SqlError | ChannelFenced

/** How a request ended: committed, or why not (interrupted when the writer stopped with it in hand). */
export type WriteExit = Exit.Exit<void, WriteError>

interface Pending extends FencedRows {
  /** Called exactly once, with the request's outcome. */
  readonly done: (exit: WriteExit) => void
  /** When it was queued (the clock's monotonic millis). */
  readonly at: number
}

const outcome = (p: Pending, written: boolean): WriteExit =>
  written ? Exit.void : Exit.fail(new ChannelFenced({ channelId: p.channelId, epoch: p.epoch }))

const interrupted: WriteExit = Exit.interrupt(FiberId.none)

/** Writes `batch` as one statement; on failure, each request on its own. */
const makeWriteBatch = (store: MessageStore, clock: Clock.Clock) => (batch: ReadonlyArray<Pending>) =>
  Effect.gen(function*() {
    // Sub-millisecond resolution: a commit on a quiet local Postgres takes well under 1 ms.
    const started = Number(clock.unsafeCurrentTimeNanos()) / 1e6
    const exit = yield* Effect.exit(store.insertMessages(batch))
    commitLatencyMs.update(Number(clock.unsafeCurrentTimeNanos()) / 1e6 - started)
    if (Exit.isSuccess(exit)) {
      let rows = 0
      for (let i = 0; i < batch.length; i++) {
        if (exit.value[i]!) rows += batch[i]!.rows.length
        batch[i]!.done(outcome(batch[i]!, exit.value[i]!))
      }
      commitBatchRows.update(rows)
      messagesPosted.update(rows)
      return
    }
    if (batch.length === 1) return batch[0]!.done(Exit.asVoid(exit))
    // Isolate the failure: every request commits or fails on its own.
    yield* Effect.forEach(batch, (p) =>
      Effect.map(Effect.exit(store.insertMessages([p])), (own) => {
        if (Exit.isSuccess(own) && own.value[0]!) messagesPosted.update(p.rows.length)
        p.done(Exit.isSuccess(own) ? outcome(p, own.value[0]!) : Exit.asVoid(own))
      }), {
      discard: true
    })
  }).pipe(
    // A flusher stopped mid-write still answers its batch (the outcome is then unknown to the caller).
    Effect.onInterrupt(() => Effect.sync(() => batch.forEach((p) => p.done(interrupted))))
  )

/**
 * The requests waiting for a flusher: a plain array, so that a request costs
 * a push and a callback rather than a queue offer and a `Deferred` (thin
 * traffic pays this per message). Flushers with nothing to do sleep until
 * the next request arrives.
 */
const makeBacklog = () => {
  const pending: Array<Pending> = []
  const sleepers: Array<() => void> = []
  let stopped = false
  return {
    pending,
    /** Batches being written now. */
    writing: 0,
    push: (p: Pending) => {
      if (stopped) return p.done(interrupted)
      pending.push(p)
      sleepers.shift()?.()
    },
    /** Completes once a request waits (at once if one does). */
    work: Effect.async<void>((resume) => {
      if (pending.length > 0) return resume(Effect.void)
      const wake = () => resume(Effect.void)
      sleepers.push(wake)
      return Effect.sync(() => {
        const i = sleepers.indexOf(wake)
        if (i >= 0) sleepers.splice(i, 1)
      })
    }),
    /** Requests still queued when the writer stops are failed, never left waiting. */
    stop: () => {
      stopped = true
      for (const p of pending.splice(0)) p.done(interrupted)
    }
  }
}

/**
 * On stop: waits until what is queued or being written is committed and
 * answered, for at most `ms`; only what is left then is answered as interrupted.
 */
const flushed = (queue: ReturnType<typeof makeBacklog>, ms: number) =>
  Effect.sync(() => queue.pending.length === 0 && queue.writing === 0).pipe(
    Effect.repeat({ until: (idle) => idle, schedule: Schedule.spaced("5 millis") }),
    // Finalizers are uninterruptible: the wait must be interruptible, or the deadline could not cut it.
    Effect.interruptible,
    Effect.timeoutOption(ms),
    Effect.asVoid
  )

export class GroupCommitWriter extends Context.Tag("plexichat/GroupCommitWriter")<GroupCommitWriter, {
  /**
   * Commits the rows of one request (one channel's batch), only while the
   * channel still has `epoch`; resolves after the commit.
   */
  readonly write: (channelId: ChannelId, epoch: number, rows: ReadonlyArray<Message>) => Effect.Effect<void, WriteError>
  /** `write` for callers outside Effect: `done` is called exactly once, after the commit or with why not. */
  readonly submit: (channelId: ChannelId, epoch: number, rows: ReadonlyArray<Message>, done: (exit: WriteExit) => void) => void
  /** Requests waiting for a flusher (not counting those being written). */
  readonly backlog: Effect.Effect<number>
}>() {
  static readonly make = Effect.fnUntraced(function*(options: GroupCommitOptions) {
    const store = yield* MessageStore
    const clock = yield* Effect.clock
    const queue = makeBacklog()
    // Held by the flusher that lingers, so that the others do not split its batch.
    const assembling = yield* Effect.makeSemaphore(1)
    yield* Effect.addFinalizer(() => Effect.sync(queue.stop))

    const writeBatch = makeWriteBatch(store, clock)
    /** The channel of the newest batch when it held that channel's request alone (its next request does not linger). */
    let loneChannel: ChannelId | undefined

    /** One flusher: takes what is queued, writes it as one INSERT, acknowledges. */
    const flusher = Effect.suspend(() => {
      // A request that would push a batch past `maxBatchRows` waits here for
      // this flusher's next batch (each flusher has its own).
      let carried: Pending | undefined

      /** The batch's first request, held in `carried` until the batch is made (so an interruption answers it). */
      const takeFirst = Effect.uninterruptibleMask((restore) => {
        if (carried !== undefined) return Effect.succeed(carried)
        // Another flusher may have taken the request whose arrival woke this one: then wait again.
        const attempt: Effect.Effect<Pending> = Effect.suspend(() => {
          const p = queue.pending.shift()
          if (p === undefined) return Effect.zipRight(restore(queue.work), attempt)
          carried = p
          return Effect.succeed(p)
        })
        return attempt
      })
      /** The first request, once it is `lingerMs` old (on the monotonic clock). */
      const lingered = Effect.flatMap(takeFirst, (first) => {
        if (first.channelId === loneChannel) return Effect.succeed(first)
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
        while (rows < options.maxBatchRows && queue.pending.length > 0) {
          const next = queue.pending[0]!
          if (rows + next.rows.length > options.maxBatchRows) {
            carried = queue.pending.shift()
            break
          }
          batch.push(queue.pending.shift()!)
          rows += next.rows.length
        }
        loneChannel = batch.length === 1 ? first.channelId : undefined
        queue.writing++
        yield* restore(writeBatch(batch)).pipe(Effect.ensuring(Effect.sync(() => queue.writing--)))
      }))

      return Effect.forever(flushOnce).pipe(
        Effect.onInterrupt(() => Effect.sync(() => carried?.done(interrupted)))
      )
    })

    yield* Effect.replicateEffect(Effect.forkScoped(flusher), options.flushers)
    // Runs before the flushers are interrupted (finalizers run in reverse order).
    yield* Effect.addFinalizer(() => flushed(queue, options.stopFlushMs ?? defaultStopFlushMs))

    const submit = (channelId: ChannelId, epoch: number, rows: ReadonlyArray<Message>, done: (exit: WriteExit) => void) =>
      rows.length === 0 ? done(Exit.void) : queue.push({ channelId, epoch, rows, done, at: monotonicMillis(clock) })

    return GroupCommitWriter.of({
      write: (channelId, epoch, rows) =>
        Effect.async<void, WriteError>((resume) => submit(channelId, epoch, rows, (exit) => resume(exit))),
      submit,
      backlog: Effect.sync(() => queue.pending.length)
    })
  })

  static readonly layer = (options: GroupCommitOptions) => Layer.scoped(GroupCommitWriter, GroupCommitWriter.make(options))
}
