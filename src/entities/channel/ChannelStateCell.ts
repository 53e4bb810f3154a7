/**
 * Holds a Channel entity's state and loads it: on first use, after it was
 * dropped (a failed or uncertain write, a crash) and after a rebuild that a
 * forked handler requested.
 *
 * Who may touch the state:
 * - serial handlers (Create, Join, AddMember, Leave, RemoveMember, UpdateChannel, Post, Info) run one at a
 *   time and are the only writers; they may drop the state and apply a
 *   requested rebuild;
 * - forked handlers (History, Subscribe, CheckReader) run alongside them and
 *   only read; a crash there *requests* a rebuild, which the next serial
 *   handler performs, never while a write is in flight.
 * Loads are single-flight: callers that find the state unloaded at the same
 * time share one load, so a slow load can never overwrite newer state.
 *
 * Only a `Live` state is kept. A load that finds no channel answers the
 * requests that share it (`ChannelNotFound`, or Create inserts) and leaves the
 * state unloaded: no fencing epoch protects an absent channel, so a kept
 * `Absent` could outlive a takeover in which another runner created the
 * channel. Every "not found" thus comes from a claim that just found no row
 * while this runner held the channel's shard.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Deferred, Effect, Exit, FiberId, type Option } from "effect"
import { ChannelNotFound, type ChannelUnavailable } from "../../../domain/Errors.ts"
import type { ChannelId } from "../../../domain/Ids.ts"
import type { MessageStore, ShardHold } from "../../messaging/MessageStore.ts"
import { fromLoad, type Live, type Loaded, type State } from "./ChannelState.ts"

export interface CellOptions {
  readonly windowSize: number
  /** Idempotency keys loaded with the state. */
  readonly dedupeLoad: number
  /** The shard every claim must hold (none on a single runner). */
  readonly hold: Option.Option<ShardHold>
}

/** How a load fails: a failed read, or a claim refused because another runner holds the shard. */
export interface LoadFailures {
  readonly readFailed: (error: SqlError) => Effect.Effect<never, ChannelUnavailable>
  readonly notHeld: Effect.Effect<never, ChannelUnavailable>
}

/** Claims the channel (a new fencing epoch) and reads it with its newest messages. */
const loadState = (channelId: ChannelId, store: MessageStore, options: CellOptions, failures: LoadFailures) =>
  Effect.gen(function*() {
    const claim = yield* store.claimChannel(channelId, options.hold)
    if (claim._tag === "NotHeld") return yield* failures.notHeld
    if (claim._tag === "Absent") return { _tag: "Absent" } satisfies Loaded as Loaded
    const recent = yield* store.recent(channelId, Math.max(options.windowSize, options.dedupeLoad))
    return fromLoad(claim, recent, options.windowSize) as Loaded
  })

export const makeStateCell = (
  channelId: ChannelId,
  store: MessageStore,
  options: CellOptions,
  failures: LoadFailures,
  onLoaded: (s: Loaded) => void
) => {
  let state: State = { _tag: "Unloaded" }
  let rebuildRequested = false
  let loading: Deferred.Deferred<Loaded, ChannelUnavailable> | undefined

  const load = loadState(channelId, store, options, failures)

  // Uninterruptible from the moment `loading` is set until it is completed, so
  // that an interrupted caller can never leave the others waiting for good.
  const current: Effect.Effect<Loaded, ChannelUnavailable> = Effect.uninterruptibleMask((restore) => {
    if (state._tag !== "Unloaded") return Effect.succeed(state)
    if (loading !== undefined) return restore(Deferred.await(loading))
    const done = Deferred.unsafeMake<Loaded, ChannelUnavailable>(FiberId.none)
    loading = done
    return load.pipe(
      Effect.catchTag("SqlError", failures.readFailed),
      Effect.exit,
      Effect.flatMap((exit) => {
        loading = undefined
        if (Exit.isSuccess(exit)) {
          if (exit.value._tag === "Live") state = exit.value
          onLoaded(exit.value)
        }
        return Effect.zipRight(Deferred.done(done, exit), exit)
      })
    )
  })

  /** A rebuild requested by a forked handler happens here, in a serial handler. */
  const applyRebuild = () => {
    if (rebuildRequested && loading === undefined) {
      rebuildRequested = false
      state = { _tag: "Unloaded" }
    }
  }

  /** The state for a serial handler. */
  const currentSerial = Effect.suspend(() => {
    applyRebuild()
    return current
  })

  /** For Create: the state when known (or the outcome of a load under way), else `Unloaded`, without a load. */
  const knownSerial = Effect.suspend((): Effect.Effect<State | Loaded, ChannelUnavailable> => {
    applyRebuild()
    return state._tag === "Unloaded" && loading === undefined ? Effect.succeed(state) : current
  })

  const liveOf = (s: Loaded) => s._tag === "Live" ? Effect.succeed(s) : Effect.fail(new ChannelNotFound({ channelId }))

  return {
    /** The state for a forked (read-only) handler. */
    current,
    currentSerial,
    knownSerial,
    /** The existing channel's state for a forked handler, or `ChannelNotFound`. */
    live: Effect.flatMap(current, liveOf),
    /** The existing channel's state for a serial handler, or `ChannelNotFound`. */
    liveSerial: Effect.flatMap(currentSerial, liveOf),
    /** The state is no longer known to match Postgres: the next request reloads it (serial handlers only). */
    drop: () => void (state = { _tag: "Unloaded" }),
    /** Sets the state (serial handlers only: after Create). */
    set: (s: Live) => {
      state = s
    },
    /** A forked handler crashed: the next serial request rebuilds the state. */
    requestRebuild: () => void (rebuildRequested = true),
    isLive: () => state._tag === "Live",
    /** The live state for a serial handler outside Effect (DirectPost.ts); undefined: load it the Effect way. */
    peekLiveSerial: (): Live | undefined =>
      state._tag === "Live" && !rebuildRequested && loading === undefined ? state : undefined
  } as const
}

export type StateCell = ReturnType<typeof makeStateCell>
