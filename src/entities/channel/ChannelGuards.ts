/**
 * How a Channel entity's handlers fail safely: store failures become
 * `ChannelUnavailable`, a write and its state change are one uninterruptible
 * step, and a crash drops (or requests a rebuild of) the state.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Cause, Effect, Exit } from "effect"
import { ChannelUnavailable } from "../../../domain/Errors.ts"
import type { ChannelId } from "../../../domain/Ids.ts"
import type { ChannelFenced } from "../../messaging/ChannelFenced.ts"

export interface GuardTarget {
  /** Forget the state: the next request reloads it. */
  readonly drop: () => void
  /** A forked handler crashed: the next serial request rebuilds the state. */
  readonly requestRebuild: () => void
}

/** A warning carrying the entity's address (entityType, entityId) on its log line. */
const warnAt = (at: Record<string, string>) => (message: string, detail?: unknown) =>
  Effect.annotateLogs(detail === undefined ? Effect.logWarning(message) : Effect.logWarning(message, detail), at)

export const makeGuards = (channelId: ChannelId, target: GuardTarget) => {
  const unavailable = (reason: string) => new ChannelUnavailable({ channelId, reason })
  const at = { entityType: "Channel", entityId: channelId }, logWarning = warnAt(at)

  /** A failed read leaves the state as it is. */
  const readFailed = (error: SqlError) =>
    Effect.zipRight(logWarning("channel store read failed", error), Effect.fail(unavailable("store unavailable")))

  /**
   * This runner no longer holds the channel's shard (another runner took it
   * over while this one was stalled, and it has not noticed yet): it claimed
   * nothing and wrote nothing. Once this runner notices (its next lock
   * refresh fails and it drops every shard), requests go to the holder.
   */
  const notHeld = Effect.zipRight(
    logWarning("channel claim refused: another runner holds the channel's shard"),
    // Built when it happens, not with every entity: an error captures a stack when it is made.
    Effect.failSync(() => unavailable("the channel is served by another node; a retry with the same clientMsgId is safe"))
  )

  /**
   * A failed write may still have committed, and a fenced one means another
   * incarnation owns the channel: forget the state so that the next request
   * rebuilds it from Postgres. Only serial handlers write, so no other write
   * is in flight when this runs.
   */
  const writeFailed = (error: SqlError | ChannelFenced) => {
    target.drop()
    return error._tag === "ChannelFenced"
      ? Effect.zipRight(
        logWarning("channel write fenced: a newer owner claimed the channel; state dropped", { epoch: error.epoch }),
        Effect.fail(unavailable("the channel moved to another owner; a retry with the same clientMsgId is safe"))
      )
      : Effect.zipRight(
        logWarning("channel store write failed", error),
        Effect.fail(unavailable("store unavailable; a retry with the same clientMsgId is safe"))
      )
  }

  /**
   * A write and the state change that records it, as one step nothing can
   * interrupt: once rows are handed to the store they may commit whatever the
   * caller does (the group-commit flusher goes on), so a handler interrupted
   * in between (its caller went away, e.g. an edge closing its sockets on
   * shutdown) would leave this incarnation with a stale head and the next
   * request would assign a committed seq again. Any outcome other than
   * success (a failure, a defect, an interruption from below) drops the state.
   */
  const persist = <A, B, E = never>(
    write: Effect.Effect<A, SqlError | ChannelFenced>,
    apply: (a: A) => Effect.Effect<B, E>
  ): Effect.Effect<B, ChannelUnavailable | E> =>
    Effect.uninterruptible(
      write.pipe(
        Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : Effect.sync(target.drop)),
        Effect.catchAll(writeFailed),
        Effect.flatMap(apply)
      )
    )

  /**
   * Supervision: a defect inside a handler is logged, the in-memory state is
   * dropped and rebuilt from Postgres (by the next request for a serial
   * handler, by the next serial request for a forked one) and the caller gets
   * `ChannelUnavailable` instead of waiting on a replay that would crash again.
   */
  const supervised = <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    mode: "serial" | "forked" = "serial"
  ): Effect.Effect<A, E | ChannelUnavailable, R> =>
    Effect.catchAllDefect(effect, (defect) => {
      if (mode === "serial") target.drop()
      else target.requestRebuild()
      const logged = Effect.annotateLogs(Effect.logError("channel handler crashed; state will be rebuilt", Cause.die(defect)), at)
      return Effect.zipRight(logged, Effect.fail(unavailable("restarted after a crash")))
    })

  return { unavailable, readFailed, notHeld, writeFailed, persist, supervised } as const
}

export type Guards = ReturnType<typeof makeGuards>
