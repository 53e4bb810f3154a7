/**
 * A Post from this node's edge without a fiber: the same pure step
 * (`PostStep.ts`), the same group commit and the same feed as the Effect
 * handler (`PostHandler.ts`), run from callbacks. Thin traffic (a message
 * now and then on each of many channels) pays a whole entity call per
 * message, and most of that cost was Effect's fibers and steps around very
 * little work; this path leaves one fiber per commit batch (the flusher's).
 *
 * It only takes the common case and says `false` for anything else, which
 * the caller then posts the Effect way: the state not loaded (or a reload
 * due), the serial lane busy, an item refused before the write (a
 * non-member: the Effect way audits it), an idempotency key that needs a
 * Postgres lookup, or a duplicate whose original is outside the window.
 * Once it said `true`, `done` is called exactly once: with the outcomes, or
 * with `ChannelUnavailable` after a write that failed or was fenced (the
 * state is then dropped, as the Effect handler's guards do). When Postgres
 * refuses the rows for their values, nothing was committed and the batch
 * goes to the Effect handler, which posts the items one at a time.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Cause, Effect, Exit, Option, Runtime } from "effect"
import type { Message, PostItem, PostOutcome, TraceContext } from "../../../domain/Channel.ts"
import type { ChannelNotFound, ChannelUnavailable } from "../../../domain/Errors.ts"
import type { ChannelId } from "../../../domain/Ids.ts"
import type { ChannelFenced } from "../../messaging/ChannelFenced.ts"
import { GroupCommitWriter, type WriteExit } from "../../messaging/GroupCommitWriter.ts"
import { isRowRefused } from "../../messaging/MessageStore.ts"
import { type CallbackSpan, endSpan, startSpan } from "../../observability/Tracing.ts"
import { ChannelConfig } from "../ChannelConfig.ts"
import type { ChannelFeed } from "./ChannelFeed.ts"
import type { Guards } from "./ChannelGuards.ts"
import { type Live, recordCommit, type StateLimits } from "./ChannelState.ts"
import type { StateCell } from "./ChannelStateCell.ts"
import { classify, type Plan, plan, type Planned } from "./PostStep.ts"
import type { SerialLane } from "./SerialLane.ts"

export type PostExit = Exit.Exit<ReadonlyArray<PostOutcome>, ChannelNotFound | ChannelUnavailable>

export interface DirectPostDeps {
  readonly channelId: ChannelId
  readonly limits: StateLimits
  readonly lane: SerialLane
  /** The live state, or undefined when a serial handler must load it first. */
  readonly peekLive: () => Live | undefined
  /** Forgets the state (the next request reloads it). */
  readonly drop: () => void
  readonly now: () => number
  readonly submit: (channelId: ChannelId, epoch: number, rows: ReadonlyArray<Message>, done: (exit: WriteExit) => void) => void
  readonly publishedNow: (head: number, messages: ReadonlyArray<Message>, trace?: TraceContext) => void
  /** Logs that the write failed or was fenced, and the error the caller gets (the guards' `writeFailed`). */
  readonly writeFailed: (error: SqlError | ChannelFenced) => Effect.Effect<never, ChannelUnavailable>
  /** A handler crashed: log it, the error the caller gets (the guards' `supervised`). */
  readonly crashed: (defect: unknown) => Effect.Effect<never, ChannelUnavailable>
  /** The Effect handler, for the batches this path hands over; `done` gets its exit. */
  readonly slow: (items: ReadonlyArray<PostItem>, done: (exit: PostExit) => void) => void
  /** Runs an effect in the entity's runtime and hands its exit to `done`. */
  readonly runExit: <A, E>(effect: Effect.Effect<A, E>, done: (exit: Exit.Exit<A, E>) => void) => void
}

/** The originals of duplicates of earlier messages, from the window; undefined when one is not there. */
const originalsOf = (s: Live, outcomes: ReadonlyArray<Planned>) => {
  const originals = new Map<number, Message>()
  const first = s.window[0]
  for (const o of outcomes) {
    if (o._tag !== "DuplicateOf" || o.seq > s.head) continue
    if (first === undefined || o.seq < first.seq) return undefined
    originals.set(o.seq, s.window[o.seq - first.seq]!)
  }
  return originals
}

/** The final outcomes: duplicates resolved to their originals (earlier ones, or new rows of this batch). */
const resolved = (planned: Plan, originals: ReadonlyMap<number, Message>): ReadonlyArray<PostOutcome> =>
  planned.outcomes.map((o): PostOutcome => {
    if (o._tag !== "DuplicateOf") return o
    const first = planned.rows[0]
    const message = first !== undefined && o.seq >= first.seq ? planned.rows[o.seq - first.seq]! : originals.get(o.seq)!
    return { _tag: "Accepted", message, duplicate: true }
  })

/** Publishes committed rows; in a `plexichat.fanout` span under the commit's when the batch is traced. */
const publish = (deps: DirectPostDeps, s: Live, rows: ReadonlyArray<Message>, commitSpan: CallbackSpan | undefined) => {
  if (commitSpan === undefined) return deps.publishedNow(s.head, rows)
  const fanout = startSpan(commitSpan.span, "plexichat.fanout")
  try {
    deps.publishedNow(s.head, rows, fanout?.trace)
  } finally {
    endSpan(fanout)
  }
}

export const makeDirectPost = (deps: DirectPostDeps) => {
  const { channelId, lane } = deps

  /** The write's outcome: record, publish and answer; or hand over, or fail as the guards do. */
  const committed = (
    s: Live,
    items: ReadonlyArray<PostItem>,
    planned: Plan,
    originals: ReadonlyMap<number, Message>,
    done: (exit: PostExit) => void,
    commitSpan: CallbackSpan | undefined
  ) =>
  (exit: WriteExit) => {
    if (Exit.isSuccess(exit)) {
      let outcomes: ReadonlyArray<PostOutcome>
      try {
        recordCommit(s, planned.rows, deps.limits)
        publish(deps, s, planned.rows, commitSpan)
        outcomes = resolved(planned, originals)
      } catch (defect) {
        endSpan(commitSpan, Exit.die(defect))
        deps.drop()
        lane.release()
        return deps.runExit(deps.crashed(defect), done)
      }
      endSpan(commitSpan)
      lane.release()
      return done(Exit.succeed(outcomes))
    }
    endSpan(commitSpan, exit)
    const error = Cause.failureOption(exit.cause)
    lane.release()
    if (Option.isSome(error) && error.value._tag === "SqlError" && isRowRefused(error.value)) return deps.slow(items, done)
    deps.drop()
    if (Option.isSome(error)) return deps.runExit(deps.writeFailed(error.value), done)
    // The writer stopped with the rows in hand (the node is shutting down): whether they committed is unknown.
    return deps.runExit(deps.crashed(Cause.squash(exit.cause)), done)
  }

  /**
   * Posts `items` now and answers `done` later, or says false (nothing done: post them the Effect way). `trace`: the
   * batch carries a traced post, and its commit and fan-out become spans under it, as on the Effect way.
   */
  return (items: ReadonlyArray<PostItem>, done: (exit: PostExit) => void, trace?: TraceContext): boolean => {
    const s = deps.peekLive()
    if (s === undefined || !lane.tryTake()) return false
    let planned: Plan
    let originals: ReadonlyMap<number, Message> | undefined
    try {
      const classified = classify(s, channelId, items)
      if (classified.lookup || classified.outcomes.some((o) => o?._tag === "Rejected")) {
        lane.release()
        return false
      }
      planned = plan(s, channelId, items, classified, [], deps.now())
      originals = originalsOf(s, planned.outcomes)
    } catch {
      // The Effect handler meets the same defect and supervises it.
      lane.release()
      return false
    }
    if (originals === undefined) {
      lane.release()
      return false
    }
    if (planned.rows.length === 0) {
      lane.release()
      done(Exit.succeed(resolved(planned, originals)))
      return true
    }
    const commitSpan = trace === undefined ? undefined : startSpan(trace, "plexichat.commit", { "plexichat.rows": planned.rows.length })
    deps.submit(channelId, s.epoch, planned.rows, committed(s, items, planned, originals, done, commitSpan))
    return true
  }
}

/** What the entity gives its direct post. */
export interface EntityParts {
  readonly channelId: ChannelId
  readonly cell: StateCell
  readonly feed: ChannelFeed
  readonly guards: Guards
  readonly lane: SerialLane
  /** The Effect handler (`PostHandler.ts` in the lane). */
  readonly postItems: (items: ReadonlyArray<PostItem>) => Effect.Effect<ReadonlyArray<PostOutcome>, ChannelNotFound | ChannelUnavailable>
}

/** The entity's direct post, in its runtime (logs, the Effect handler it hands batches to). */
export const makeEntityDirectPost = (parts: EntityParts) =>
  Effect.gen(function*() {
    const writer = yield* GroupCommitWriter
    const settings = yield* ChannelConfig
    const clock = yield* Effect.clock
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const runExit = <A, E>(effect: Effect.Effect<A, E>, done: (exit: Exit.Exit<A, E>) => void) => {
      runFork(Effect.onExit(effect, (exit) => Effect.sync(() => done(exit))))
    }
    return makeDirectPost({
      channelId: parts.channelId,
      limits: settings,
      lane: parts.lane,
      peekLive: parts.cell.peekLiveSerial,
      drop: parts.cell.drop,
      now: () => clock.unsafeCurrentTimeMillis(),
      submit: writer.submit,
      publishedNow: parts.feed.publishedNow,
      writeFailed: parts.guards.writeFailed,
      crashed: (defect) => parts.guards.supervised(Effect.die(defect)),
      slow: (items, done) => runExit(parts.postItems(items), done),
      runExit
    })
  })
