/**
 * The Channel entities running on this node, reachable without the
 * cluster's transport.
 *
 * An entity call through the cluster costs about 150 µs of CPU even when the
 * entity runs in the same process, and each chunk of an entity stream about
 * as much (measured: docs/BENCHMARKS.md). Chat traffic is thin, one message
 * per call, so for a channel whose entity runs here the outbox posts and the
 * hub follows directly through this registry: the same handlers, serialized
 * with the entity's mailbox by the entity's own lane. A channel that is not
 * registered (not active here, or owned by another node) goes through the
 * cluster, which activates it where its shard lives; once active here, it
 * registers itself.
 *
 * Entries live as long as the entity: its scope closes when its shard moves,
 * the node stops or the entity is passivated, and the entry goes with it.
 * A caller that took an entry just before that gets `LocalChannelClosed`
 * and goes through the cluster instead. Writes stay fenced by the channel's
 * epoch either way, so a stale entry can never write.
 *
 * The cluster passivates an entity that saw no mailbox message for its idle
 * time; direct traffic is not mailbox traffic, so a node-wide sweep sends one
 * `Info` call through the cluster for each entry that was used (or had
 * followers) since its last touch, which counts as activity. Each entry is
 * due once per touch interval, at its own time (spread at registration), and
 * the sweep runs twenty times per interval: a thousand channels activated
 * together would otherwise all be touched in one burst, which held up posts
 * for hundreds of milliseconds.
 */
import { Context, Data, Duration, Effect, type Exit, Layer, Schedule, type Scope, type Stream } from "effect"
import { ChannelEntity, type FeedChunk, type PostItem, type PostOutcome, type TraceContext } from "../../domain/Channel.ts"
import type { ChannelNotFound, ChannelUnavailable, NotAMember } from "../../domain/Errors.ts"
import type { ChannelId, UserId } from "../../domain/Ids.ts"
import { monotonicMillis } from "./PostDeadline.ts"
import { counterHook } from "../observability/MetricHooks.ts"

/**
 * `Post` calls and feed openings of this node's edge (`plexichat_channel_calls`), tagged `path` = `local` (direct) or
 * `cluster`, and `rpc`. Hooks resolved once (MetricHooks.ts): `Metric.tagged(...)` built a metric key per update, which
 * was ~4% of the node's busy time at thin traffic (one update per direct post).
 */
const callHook = (path: "local" | "cluster", rpc: "Post" | "Subscribe") =>
  counterHook("plexichat_channel_calls", "Post calls and feed openings from this node's edge to Channel entities, by path (local or cluster)", { path, rpc })

const counters = {
  local: { Post: callHook("local", "Post"), Subscribe: callHook("local", "Subscribe") },
  cluster: { Post: callHook("cluster", "Post"), Subscribe: callHook("cluster", "Subscribe") }
}

export const countCall = (path: "local" | "cluster", rpc: "Post" | "Subscribe") => Effect.sync(() => counters[path][rpc].update(1))

/** `countCall` outside Effect. */
export const countCallNow = (path: "local" | "cluster", rpc: "Post" | "Subscribe") => counters[path][rpc].update(1)

/** How many calls took `path` for `rpc` in this process so far. */
export const callCount = (path: "local" | "cluster", rpc: "Post" | "Subscribe") => counters[path][rpc].count()

/** The entry was closed (the entity stopped) after it was looked up: go through the cluster. */
export class LocalChannelClosed extends Data.TaggedError("LocalChannelClosed") {}

/** Where a tap's chunks go (the edge's feed of the channel). */
export interface FeedSink {
  /** The next chunk, in commit order. */
  readonly push: (chunk: FeedChunk) => void
  /** The entity stopped: no chunk follows (the follower reopens). */
  readonly end: () => void
}

export interface LocalChannel {
  /** The entity's `Post` handler, serialized with its mailbox. */
  readonly post: (
    items: ReadonlyArray<PostItem>
  ) => Effect.Effect<ReadonlyArray<PostOutcome>, ChannelNotFound | ChannelUnavailable | LocalChannelClosed>
  /**
   * The same post without a fiber, when the entity can take it now
   * (`src/entities/channel/DirectPost.ts`): true, and `done` is called
   * exactly once; or false, and nothing happened (use `post`).
   */
  readonly postDirect: (
    items: ReadonlyArray<PostItem>,
    done: (exit: Exit.Exit<ReadonlyArray<PostOutcome>, ChannelNotFound | ChannelUnavailable>) => void,
    /** The batch carries a traced post: its commit and fan-out spans continue this context. */
    trace?: TraceContext
  ) => boolean
  /** The entity's `Subscribe` stream; it ends when the entity stops (a follower then reopens). */
  readonly subscribe: (afterSeq: number | undefined) => Stream.Stream<FeedChunk, ChannelNotFound | ChannelUnavailable>
  /**
   * Taps the entity's feed for the lifetime of the scope: the chunks a
   * `Subscribe` stream would carry, handed to `sink` synchronously (see
   * `ChannelFeed.ts`); `sink.end` is called when the entity stops.
   */
  readonly tap: (
    afterSeq: number | undefined,
    sink: FeedSink
  ) => Effect.Effect<void, ChannelNotFound | ChannelUnavailable | LocalChannelClosed, Scope.Scope>
  /** The entity's `CheckReader`: whether `readerId` may read the channel, and its head (`ip`: the reader's address, for the audit). */
  readonly checkReader: (
    readerId: UserId,
    ip?: string
  ) => Effect.Effect<{ readonly head: number }, ChannelNotFound | ChannelUnavailable | NotAMember | LocalChannelClosed>
  /** Whether the entity has followers (it must then stay active). */
  readonly followed: () => boolean
}

interface Entry {
  readonly channel: LocalChannel
  used: boolean
  /** When the entry was last touched (or registered, spread back by up to half an interval): monotonic millis. */
  touchedAt: number
}

export class LocalChannels extends Context.Tag("plexichat/LocalChannels")<LocalChannels, {
  /** Registers the running entity of `channelId` for the lifetime of the calling scope. */
  readonly register: (channelId: ChannelId, channel: LocalChannel) => Effect.Effect<void, never, Scope.Scope>
  /** The entity of `channelId` if it runs on this node; marks it as used. */
  readonly get: (channelId: ChannelId) => LocalChannel | undefined
  /** Completes once the entity of `channelId` runs here (at once if it does now). */
  readonly registered: (channelId: ChannelId) => Effect.Effect<void>
  /** Channels registered here (for tests and health). */
  readonly size: () => number
}>() {
  /** `idleTime`: the entities' idle time; used entries are reported three times per idle time, well before it passes. */
  static readonly make = Effect.fnUntraced(function*(idleTime: Duration.DurationInput) {
    const touchMs = Duration.toMillis(idleTime) / 3
    const clock = yield* Effect.clock
    const entries = new Map<ChannelId, Entry>()
    /** Who waits for a channel's entity to run here (`registered`). */
    const waiting = new Map<ChannelId, Set<() => void>>()
    const makeClient = yield* ChannelEntity.client

    // Keeps used entities from being passivated: one Info call each through the cluster per touch interval.
    const touch = Effect.suspend(() => {
      const due: Array<ChannelId> = []
      const now = monotonicMillis(clock)
      for (const [channelId, entry] of entries) {
        if (now - entry.touchedAt < touchMs) continue
        if (entry.used || entry.channel.followed()) due.push(channelId)
        entry.used = false
        entry.touchedAt = now
      }
      return Effect.forEach(due, (channelId) => Effect.ignore(makeClient(channelId).Info({})), {
        concurrency: 16,
        discard: true
      })
    })
    yield* touch.pipe(Effect.repeat(Schedule.spaced(Duration.millis(touchMs / 20))), Effect.forkScoped)

    return LocalChannels.of({
      register: (channelId, channel) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            const entry: Entry = { channel, used: false, touchedAt: monotonicMillis(clock) - Math.random() * touchMs / 2 }
            entries.set(channelId, entry)
            const wake = waiting.get(channelId)
            waiting.delete(channelId)
            if (wake !== undefined) for (const w of wake) w()
            return entry
          }),
          (entry) =>
            Effect.sync(() => {
              if (entries.get(channelId) === entry) entries.delete(channelId)
            })
        ),
      get: (channelId) => {
        const entry = entries.get(channelId)
        if (entry === undefined) return undefined
        entry.used = true
        return entry.channel
      },
      registered: (channelId) =>
        Effect.async<void>((resume) => {
          if (entries.has(channelId)) return resume(Effect.void)
          const wake = () => resume(Effect.void)
          const all = waiting.get(channelId) ?? new Set()
          all.add(wake)
          waiting.set(channelId, all)
          return Effect.sync(() => {
            all.delete(wake)
            if (all.size === 0 && waiting.get(channelId) === all) waiting.delete(channelId)
          })
        }),
      size: () => entries.size
    })
  })

  static readonly layer = (idleTime: Duration.DurationInput) => Layer.scoped(LocalChannels, LocalChannels.make(idleTime))
}
