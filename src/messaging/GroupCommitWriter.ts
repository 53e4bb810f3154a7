/**
 * Group commit for chat messages: callers hand in the rows of one request
 * and wait; the writer takes everything queued so far and writes it with
 * one multi-row INSERT (a few such batches at once), then acknowledges every
 * request in that batch.
 * Under load the batches grow by themselves, so a handful of statements a
 * second carry tens of thousands of messages. Thin traffic (many channels, a
 * message each now and then) would find an idle flusher every time and pay a
 * statement, a round trip and a Postgres commit per message: so a batch
 * waits for company until its first request is `lingerMs` old, and while one
 * batch lingers no other starts. Under load
 * the first request is older than that already, and nothing waits. Nor does
 * a channel's request when the batch before was that channel's alone: a
 * channel has one request in the writer at a time (the outbox sends its next
 * batch after the commit), so a lone busy channel would only wait for itself.
 *
 * The writer runs without fibers (thin traffic pays it every few messages):
 * requests are a plain array, a batch is one `MessageStore.insertMessagesNow`
 * call, and "flushers" is how many batches are written at once; a
 * lingering batch waits on a timer.
 *
 * A request is acknowledged only after its rows committed. When a combined
 * batch fails, each request in it is retried on its own, so one bad request
 * never fails (or partially writes) another's rows. A request whose channel
 * was claimed by a newer owner fails `ChannelFenced` and writes nothing; the
 * others in its batch are unaffected.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Cause, Clock, Context, DefaultServices, Effect, Exit, FiberId, FiberSet, Layer, Schedule } from "effect"
import type { Message } from "../../domain/Channel.ts"
import type { ChannelId } from "../../domain/Ids.ts"
import { ChannelFenced } from "./ChannelFenced.ts"
import { type FencedRows, type InsertExit, MessageStore } from "./MessageStore.ts"
import { monotonicMillis } from "./PostDeadline.ts"
import { commitBatchRows, commitLatencyMs, messagesPosted } from "../observability/ChatMetrics.ts"

export interface GroupCommitOptions {
  /** Batches written at once; each holds one connection while it is written. */
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
  /** Called exactly once, with the request's outcome (through `answer`). */
  readonly done: (exit: WriteExit) => void
  /** When it was queued (the clock's monotonic millis). */
  readonly at: number
  answered: boolean
}

const outcome = (p: Pending, written: boolean): WriteExit =>
  written ? Exit.void : Exit.fail(new ChannelFenced({ channelId: p.channelId, epoch: p.epoch }))

const interrupted: WriteExit = Exit.interrupt(FiberId.none)

/**
 * On stop: waits until what is queued or being written is committed and
 * answered, for at most `ms`; only what is left then is answered as interrupted.
 */
const flushed = (idle: () => boolean, ms: number) =>
  Effect.sync(idle).pipe(
    Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("5 millis") }),
    // Finalizers are uninterruptible: the wait must be interruptible, or the deadline could not cut it.
    Effect.interruptible,
    Effect.timeoutOption(ms),
    Effect.asVoid
  )

interface BatcherDeps {
  readonly options: GroupCommitOptions
  readonly insert: MessageStore["insertMessagesNow"]
  readonly clock: Clock.Clock
  /** Runs `effect` in the writer's scope (a log line). */
  readonly run: (effect: Effect.Effect<void>) => void
  /** Calls `f` after `ms` on the writer's clock. */
  readonly sleep: (ms: number, f: () => void) => void
}

/** The writer's queue and batches, all in callbacks. */
class Batcher {
  private readonly pending: Array<Pending> = []
  /** The requests of the batches being written. */
  private readonly writing = new Set<ReadonlyArray<Pending>>()
  /** The first request of a batch that waits for company (no other batch starts meanwhile). */
  private held: Pending | undefined
  private stopped = false
  /** The channel of the newest batch when it held that channel's request alone (its next request does not linger). */
  private loneChannel: ChannelId | undefined

  constructor(private readonly deps: BatcherDeps) {}

  /** Requests waiting for a batch (not counting those being written, nor a lingering batch's first). */
  backlog() {
    return this.pending.length
  }

  /** Nothing queued, lingering or being written. */
  idle() {
    return this.held === undefined && this.pending.length === 0 && this.writing.size === 0
  }

  submit(channelId: ChannelId, epoch: number, rows: ReadonlyArray<Message>, done: (exit: WriteExit) => void) {
    if (rows.length === 0) return done(Exit.void)
    if (this.stopped) return done(interrupted)
    this.pending.push({ channelId, epoch, rows, done, at: monotonicMillis(this.deps.clock), answered: false })
    this.pump()
  }

  /** Answers every request still queued, lingering or being written as interrupted; later ones at once. */
  stop() {
    this.stopped = true
    if (this.held !== undefined) this.answer(this.held, interrupted)
    this.held = undefined
    for (const p of this.pending.splice(0)) this.answer(p, interrupted)
    for (const batch of this.writing) for (const p of batch) this.answer(p, interrupted)
    this.writing.clear()
  }

  /** Answers `p` once; a callback that throws is logged, and the writer goes on. */
  private answer(p: Pending, exit: WriteExit) {
    if (p.answered) return
    p.answered = true
    try {
      p.done(exit)
    } catch (defect) {
      this.deps.run(Effect.logError("a group commit's callback threw", Cause.die(defect)))
    }
  }

  /** Starts batches while requests wait and fewer than `flushers` are being written; or lingers for company. */
  private pump(): void {
    const { options, clock } = this.deps
    while (!this.stopped && this.held === undefined && this.writing.size < options.flushers && this.pending.length > 0) {
      const first = this.pending.shift()!
      const wait = options.lingerMs > 0 && first.channelId !== this.loneChannel
        ? first.at + options.lingerMs - monotonicMillis(clock)
        : 0
      if (wait > 0) return this.linger(first, wait)
      this.writeFrom(first)
    }
  }

  private linger(first: Pending, wait: number) {
    this.held = first
    this.deps.sleep(wait, () => {
      if (this.held !== first) return // answered at stop
      this.held = undefined
      this.writeFrom(first)
      this.pump()
    })
  }

  /** Writes the batch of `first` and what fits behind it in the queue. */
  private writeFrom(first: Pending) {
    const batch = [first]
    let rows = first.rows.length
    // A request that would push the batch past `maxBatchRows` stays first in the queue, for the next batch.
    while (this.pending.length > 0 && rows + this.pending[0]!.rows.length <= this.deps.options.maxBatchRows) {
      const next = this.pending.shift()!
      batch.push(next)
      rows += next.rows.length
    }
    this.loneChannel = batch.length === 1 ? first.channelId : undefined
    this.write(batch)
  }

  /** Writes `batch` as one statement; on failure, each request on its own; then the next batch. */
  private write(batch: ReadonlyArray<Pending>) {
    const { clock, insert } = this.deps
    this.writing.add(batch)
    // Sub-millisecond resolution: a commit on a quiet local Postgres takes well under 1 ms.
    const started = Number(clock.unsafeCurrentTimeNanos()) / 1e6
    insert(batch, (exit) => {
      commitLatencyMs.update(Number(clock.unsafeCurrentTimeNanos()) / 1e6 - started)
      if (this.stopped) return // the writer answered the batch when it stopped
      if (Exit.isSuccess(exit)) {
        let rows = 0
        for (let i = 0; i < batch.length; i++) {
          if (exit.value[i]!) rows += batch[i]!.rows.length
          this.answer(batch[i]!, outcome(batch[i]!, exit.value[i]!))
        }
        commitBatchRows.update(rows)
        messagesPosted.update(rows)
        return this.finished(batch)
      }
      if (batch.length === 1) {
        this.answer(batch[0]!, Exit.asVoid(exit))
        return this.finished(batch)
      }
      this.isolate(batch, 0)
    })
  }

  /** After a combined batch failed: every request from `i` on commits or fails on its own, one after the other. */
  private isolate(batch: ReadonlyArray<Pending>, i: number): void {
    if (i === batch.length) return this.finished(batch)
    const p = batch[i]!
    this.deps.insert([p], (own: InsertExit) => {
      if (this.stopped) return
      if (Exit.isSuccess(own) && own.value[0]!) messagesPosted.update(p.rows.length)
      this.answer(p, Exit.isSuccess(own) ? outcome(p, own.value[0]!) : Exit.asVoid(own))
      this.isolate(batch, i + 1)
    })
  }

  private finished(batch: ReadonlyArray<Pending>) {
    this.writing.delete(batch)
    this.pump()
  }
}

/**
 * A lingering batch's wait: a plain timer on the live clock (a fiber and its
 * sleep cost more than the batch's own work at thin traffic); on any other
 * clock (a test's `TestClock`), a sleep on that clock in a fiber.
 */
const sleeper = (clock: Clock.Clock, run: (effect: Effect.Effect<void>) => unknown) => {
  if (clock === Context.get(DefaultServices.liveServices, Clock.Clock)) {
    return (ms: number, f: () => void) => void setTimeout(() => {
      try {
        f()
      } catch (defect) {
        run(Effect.logError("the group commit writer failed", Cause.die(defect)))
      }
    }, ms)
  }
  return (ms: number, f: () => void) => void run(Effect.zipRight(Effect.sleep(ms), Effect.sync(f)))
}

export class GroupCommitWriter extends Context.Tag("plexichat/GroupCommitWriter")<GroupCommitWriter, {
  /**
   * Commits the rows of one request (one channel's batch), only while the
   * channel still has `epoch`; resolves after the commit.
   */
  readonly write: (channelId: ChannelId, epoch: number, rows: ReadonlyArray<Message>) => Effect.Effect<void, WriteError>
  /** `write` for callers outside Effect: `done` is called exactly once, after the commit or with why not. */
  readonly submit: (channelId: ChannelId, epoch: number, rows: ReadonlyArray<Message>, done: (exit: WriteExit) => void) => void
  /** Requests waiting for a batch (not counting those being written, nor a lingering batch's first). */
  readonly backlog: Effect.Effect<number>
}>() {
  static readonly make = Effect.fnUntraced(function*(options: GroupCommitOptions) {
    const store = yield* MessageStore
    const clock = yield* Effect.clock
    const run = yield* FiberSet.makeRuntime<never>()
    const writer = new Batcher({ options, insert: store.insertMessagesNow, clock, run: (effect) => void run(effect), sleep: sleeper(clock, run) })
    // Finalizers run in reverse order: the flush first, then what is left is answered as interrupted.
    yield* Effect.addFinalizer(() => Effect.sync(() => writer.stop()))
    yield* Effect.addFinalizer(() => flushed(() => writer.idle(), options.stopFlushMs ?? defaultStopFlushMs))
    const submit = writer.submit.bind(writer)
    return GroupCommitWriter.of({
      write: (channelId, epoch, rows) =>
        Effect.async<void, WriteError>((resume) => submit(channelId, epoch, rows, (exit) => resume(exit))),
      submit,
      backlog: Effect.sync(() => writer.backlog())
    })
  })

  static readonly layer = (options: GroupCommitOptions) => Layer.scoped(GroupCommitWriter, GroupCommitWriter.make(options))
}
