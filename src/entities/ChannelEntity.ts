/**
 * Behaviour of the sharded Channel entity.
 *
 * State (members, next seq, a window of recent messages and the recent
 * idempotency keys) lives in memory and is rebuilt from Postgres whenever the
 * entity starts: on first use, after passivation, after its node died and
 * after a crash. Requests are handled one at a time (the cluster's default
 * entity concurrency), which is what makes `seq` gap-free without locks;
 * `Subscribe` and `History` are forked so they never hold up posts.
 */
import { Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import type { SqlError } from "@effect/sql/SqlError"
import { Cause, Chunk, Context, Deferred, Effect, Exit, FiberId, Option, PubSub, Schedule, Stream } from "effect"
import {
  type Channel,
  ChannelEntity,
  type FeedChunk,
  type Member,
  type Message,
  type PostItem,
  type PostOutcome
} from "../../domain/Channel.ts"
import { ChannelAlreadyExists, ChannelNotFound, ChannelUnavailable, Forbidden, NotAMember } from "../../domain/Errors.ts"
import { ChannelId, messageIdOf, type UserId } from "../../domain/Ids.ts"
import { GroupCommitWriter } from "../messaging/GroupCommitWriter.ts"
import type { ChannelFenced } from "../messaging/ChannelFenced.ts"
import { CREATED_EPOCH, MessageStore } from "../messaging/MessageStore.ts"

/** Tuning of the Channel entity. */
export class ChannelSettings extends Context.Reference<ChannelSettings>()("plexichat/ChannelSettings", {
  defaultValue: () => ({
    /** Recent messages kept in memory to serve History and catch-ups without a query. */
    windowSize: 512,
    /** Idempotency keys loaded on activation; retries older than this are checked in Postgres. */
    dedupeLoad: 4096,
    /** Idempotency keys kept in memory at most. */
    dedupeMax: 100_000,
    /** How often followers get a keep-alive chunk, so they notice a dead owner. */
    keepAliveMs: 1000
  })
}) {}

/**
 * Fault-injection point for supervision tests: runs before each Post batch
 * is handled. The default does nothing.
 */
export class ChannelHooks extends Context.Reference<ChannelHooks>()("plexichat/ChannelHooks", {
  defaultValue: () => ({ beforePost: (_items: ReadonlyArray<PostItem>): Effect.Effect<void> => Effect.void })
}) {}

const dedupeKey = (authorId: string, clientMsgId: string) => `${authorId}\u0000${clientMsgId}`

interface Live {
  readonly _tag: "Live"
  channel: Channel
  /** The fencing token this incarnation holds: every write carries it (see MessageStore.claimChannel). */
  readonly epoch: number
  members: Map<UserId, Member>
  /** seq of the last committed message. */
  head: number
  /** Recent messages, ascending, contiguous, ending at `head`. */
  window: Array<Message>
  /** (author, clientMsgId) -> seq for recent messages. */
  dedupe: Map<string, number>
  /** True when `dedupe` holds every message of the channel. */
  dedupeComplete: boolean
}
interface Absent {
  readonly _tag: "Absent"
}
type State = Live | Absent | { readonly _tag: "Unloaded" }

export const ChannelEntityLive = ChannelEntity.toLayer(Effect.gen(function*() {
  const address = yield* Entity.CurrentAddress
  const channelId = ChannelId.make(address.entityId)
  const store = yield* MessageStore
  const writer = yield* GroupCommitWriter
  const settings = yield* ChannelSettings
  const hooks = yield* ChannelHooks
  const feed = yield* PubSub.sliding<FeedChunk>(4096)
  let followers = 0

  const unavailable = (reason: string) => new ChannelUnavailable({ channelId, reason })

  /** A failed read leaves the state as it is. */
  const readFailed = (error: SqlError) =>
    Effect.zipRight(Effect.logWarning("channel store read failed", error), Effect.fail(unavailable("store unavailable")))

  /**
   * A failed write may still have committed: forget the state so that the next
   * request rebuilds it from Postgres. Only serial handlers write, so no other
   * write is in flight when this runs.
   */
  const writeFailed = (error: SqlError | ChannelFenced) => {
    state = { _tag: "Unloaded" }
    return error._tag === "ChannelFenced"
      ? Effect.zipRight(
        Effect.logWarning("channel write fenced: a newer owner claimed the channel; state dropped", { epoch: error.epoch }),
        Effect.fail(unavailable("the channel moved to another owner; a retry with the same clientMsgId is safe"))
      )
      : Effect.zipRight(
        Effect.logWarning("channel store write failed", error),
        Effect.fail(unavailable("store unavailable; a retry with the same clientMsgId is safe"))
      )
  }

  const load = Effect.gen(function*() {
    const found = yield* store.claimChannel(channelId)
    if (Option.isNone(found)) return { _tag: "Absent" } satisfies Absent as Live | Absent
    // The newest messages also give the head (seqs are gap-free, so the last one is the max).
    const recent = yield* store.recent(channelId, Math.max(settings.windowSize, settings.dedupeLoad))
    const head = recent.length > 0 ? recent[recent.length - 1]!.seq : 0
    const dedupe = new Map<string, number>()
    for (const m of recent) dedupe.set(dedupeKey(m.authorId, m.clientMsgId), m.seq)
    const live: Live = {
      _tag: "Live",
      channel: found.value.channel,
      epoch: found.value.epoch,
      members: new Map(found.value.channel.members.map((m) => [m.userId, m])),
      head,
      window: recent.slice(-settings.windowSize),
      dedupe,
      dedupeComplete: recent.length === head
    }
    return live
  })

  /*
   * Who may touch `state`:
   * - serial handlers (Create, Join, AddMember, Leave, Post, Info) run one at a
   *   time and are the only writers; they may drop the state (`writeFailed`,
   *   a crash) and apply a requested rebuild;
   * - forked handlers (History, Subscribe, CheckReader) run alongside them and
   *   only read; a crash there *requests* a rebuild, which the next serial
   *   handler performs, never while a write is in flight.
   * Loads are single-flight: callers that find the state unloaded at the same
   * time share one load, so a slow load can never overwrite newer state.
   */
  let state: State = { _tag: "Unloaded" }
  /**
   * The head as followers know it: set after each publish (and on load), so a
   * keep-alive never announces a seq whose chunk is not out yet.
   */
  let publishedHead = 0
  let rebuildRequested = false
  let loading: Deferred.Deferred<Live | Absent, ChannelUnavailable> | undefined

  // Uninterruptible from the moment `loading` is set until it is completed, so
  // that an interrupted caller can never leave the others waiting for good.
  const current: Effect.Effect<Live | Absent, ChannelUnavailable> = Effect.uninterruptibleMask((restore) => {
    if (state._tag !== "Unloaded") return Effect.succeed(state)
    if (loading !== undefined) return restore(Deferred.await(loading))
    const done = Deferred.unsafeMake<Live | Absent, ChannelUnavailable>(FiberId.none)
    loading = done
    return load.pipe(
      Effect.catchAll(readFailed),
      Effect.exit,
      Effect.flatMap((exit) => {
        loading = undefined
        if (Exit.isSuccess(exit)) {
          state = exit.value
          if (exit.value._tag === "Live") publishedHead = exit.value.head
        }
        return Effect.zipRight(Deferred.done(done, exit), exit)
      })
    )
  })

  /** The state for a serial handler: a rebuild requested by a forked handler happens here. */
  const currentSerial = Effect.suspend(() => {
    if (rebuildRequested && loading === undefined) {
      rebuildRequested = false
      state = { _tag: "Unloaded" }
    }
    return current
  })

  const liveOf = (s: Live | Absent) => s._tag === "Live" ? Effect.succeed(s) : Effect.fail(new ChannelNotFound({ channelId }))
  const live = Effect.flatMap(current, liveOf)
  const liveSerial = Effect.flatMap(currentSerial, liveOf)

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
      if (mode === "serial") state = { _tag: "Unloaded" }
      else rebuildRequested = true
      return Effect.zipRight(
        Effect.logError("channel handler crashed; state will be rebuilt", Cause.die(defect)),
        Effect.fail(unavailable("restarted after a crash"))
      )
    })

  const publicView = (s: Live): Channel => ({ ...s.channel, members: Array.from(s.members.values()) })

  /** The state, when `readerId` may read the channel: anyone for a public one, members for a private one. */
  const readable = (readerId: UserId) =>
    Effect.flatMap(live, (s) =>
      s.channel.visibility === "private" && !s.members.has(readerId)
        ? Effect.fail(new NotAMember({ channelId, userId: readerId }))
        : Effect.succeed(s))

  const remember = (s: Live, messages: ReadonlyArray<Message>) => {
    for (const m of messages) {
      s.window.push(m)
      s.dedupe.set(dedupeKey(m.authorId, m.clientMsgId), m.seq)
    }
    if (s.window.length > settings.windowSize) s.window.splice(0, s.window.length - settings.windowSize)
    if (s.dedupe.size > settings.dedupeMax) {
      const it = s.dedupe.keys()
      for (let n = s.dedupe.size - settings.dedupeMax; n > 0; n--) s.dedupe.delete(it.next().value!)
      s.dedupeComplete = false
    }
  }

  /** Messages `afterSeq < seq <= upTo`, from the window when it covers them. */
  const between = (s: Live, afterSeq: number, upTo: number, limit: number) => {
    const first = s.window[0]
    if (first !== undefined && first.seq <= afterSeq + 1) {
      const from = afterSeq + 1 - first.seq
      return Effect.succeed(s.window.slice(from, Math.min(from + limit, from + (upTo - afterSeq))))
    }
    return store.range(channelId, afterSeq, limit, upTo).pipe(Effect.catchAll(readFailed))
  }

  const messageAt = (s: Live, seq: number) => {
    const first = s.window[0]
    if (first !== undefined && seq >= first.seq) return Effect.succeed(s.window[seq - first.seq]!)
    return store.range(channelId, seq - 1, 1).pipe(
      Effect.map((rows) => rows[0]!),
      Effect.catchAll(readFailed)
    )
  }

  const post = Effect.fnUntraced(function*(items: ReadonlyArray<PostItem>) {
    yield* hooks.beforePost(items)
    const s = yield* liveSerial
    const outcomes: Array<PostOutcome | number> = new Array(items.length)
    const fresh: Array<Message> = []
    const pendingKeys = new Map<string, number>()
    let unknown: Array<number> = []
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!
      if (!s.members.has(item.authorId)) {
        outcomes[i] = { _tag: "Rejected", error: new NotAMember({ channelId, userId: item.authorId }) }
        continue
      }
      const seq = s.dedupe.get(dedupeKey(item.authorId, item.clientMsgId))
      if (seq !== undefined) outcomes[i] = -seq
      else unknown.push(i)
    }
    if (unknown.length > 0 && !s.dedupeComplete) {
      const found = yield* store.findByClientIds(channelId, unknown.map((i) => items[i]!)).pipe(
        Effect.catchAll(readFailed)
      )
      if (found.length > 0) {
        const byKey = new Map(found.map((m) => [dedupeKey(m.authorId, m.clientMsgId), m] as const))
        unknown = unknown.filter((i) => {
          const original = byKey.get(dedupeKey(items[i]!.authorId, items[i]!.clientMsgId))
          if (original === undefined) return true
          outcomes[i] = { _tag: "Accepted", message: original, duplicate: true }
          return false
        })
      }
    }
    const now = Date.now()
    for (const i of unknown) {
      const item = items[i]!
      const key = dedupeKey(item.authorId, item.clientMsgId)
      const earlier = pendingKeys.get(key)
      if (earlier !== undefined) {
        outcomes[i] = -earlier
        continue
      }
      const seq = s.head + fresh.length + 1
      pendingKeys.set(key, seq)
      fresh.push({
        id: messageIdOf(channelId, seq),
        channelId,
        seq,
        authorId: item.authorId,
        body: item.body,
        clientMsgId: item.clientMsgId,
        createdAt: now
      })
      outcomes[i] = { _tag: "Accepted", message: fresh[fresh.length - 1]!, duplicate: false }
    }
    if (fresh.length > 0) {
      yield* persist(writer.write(channelId, s.epoch, fresh), () => {
        s.head += fresh.length
        remember(s, fresh)
        return Effect.zipRight(PubSub.publish(feed, { head: s.head, messages: fresh }), Effect.sync(() => {
          publishedHead = s.head
        }))
      })
    }
    // Resolve duplicates (marked with -seq) to the original message.
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!
      if (typeof o !== "number") continue
      const seq = -o
      const message = seq > s.head - fresh.length ? fresh[seq - (s.head - fresh.length) - 1]! : yield* messageAt(s, seq)
      outcomes[i] = { _tag: "Accepted", message, duplicate: true }
    }
    return outcomes as ReadonlyArray<PostOutcome>
  })

  /**
   * A write and the state change that records it, as one step nothing can
   * interrupt: once rows are handed to the store they may commit whatever the
   * caller does (the group-commit flusher goes on), so a handler interrupted
   * in between (its caller went away, e.g. an edge closing its sockets on
   * shutdown) would leave this incarnation with a stale head and the next
   * request would assign a committed seq again. Any outcome other than
   * success (a failure, a defect, an interruption from below) drops the state.
   */
  const persist = <A, B>(
    write: Effect.Effect<A, SqlError | ChannelFenced>,
    apply: (a: A) => Effect.Effect<B>
  ): Effect.Effect<B, ChannelUnavailable> =>
    Effect.uninterruptible(
      write.pipe(
        Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : Effect.sync(() => { state = { _tag: "Unloaded" } })),
        Effect.catchAll(writeFailed),
        Effect.flatMap(apply)
      )
    )

  // Keep-alives go through the same PubSub as commits, so they are ordered with them.
  yield* Effect.suspend(() =>
    followers > 0 && state._tag === "Live" ? PubSub.publish(feed, { head: publishedHead, messages: [] }) : Effect.void
  ).pipe(Effect.repeat(Schedule.spaced(settings.keepAliveMs)), Effect.forkScoped)

  return ChannelEntity.of({
    Create: ({ payload }) =>
      supervised(Effect.gen(function*() {
        const s = yield* currentSerial
        if (s._tag === "Live") return yield* new ChannelAlreadyExists({ channelId })
        const channel: Channel = {
          id: channelId,
          name: payload.name,
          visibility: payload.visibility,
          createdBy: payload.ownerId,
          createdAt: Date.now(),
          members: [{ userId: payload.ownerId, role: "owner" }]
        }
        const created = yield* persist(store.createChannel(channel), (created) =>
          Effect.sync(() => {
            state = created
              ? {
                _tag: "Live",
                channel,
                epoch: CREATED_EPOCH,
                members: new Map(channel.members.map((m) => [m.userId, m])),
                head: 0,
                window: [],
                dedupe: new Map(),
                dedupeComplete: true
              }
              : { _tag: "Unloaded" }
            return created
          }))
        if (!created) return yield* new ChannelAlreadyExists({ channelId })
        return channel
      })),

    Join: ({ payload }) =>
      supervised(Effect.gen(function*() {
        const s = yield* liveSerial
        if (s.members.has(payload.userId)) return publicView(s)
        if (s.channel.visibility === "private") {
          return yield* new Forbidden({ message: "private channel: ask an owner or admin to add you" })
        }
        return yield* persist(store.upsertMember(channelId, s.epoch, payload.userId, "member", Date.now()), () =>
          Effect.sync(() => {
            s.members.set(payload.userId, { userId: payload.userId, role: "member" })
            return publicView(s)
          }))
      })),

    AddMember: ({ payload }) =>
      supervised(Effect.gen(function*() {
        const s = yield* liveSerial
        const actor = s.members.get(payload.actorId)
        if (actor === undefined) return yield* new NotAMember({ channelId, userId: payload.actorId })
        if (actor.role === "member") return yield* new Forbidden({ message: "only owners and admins add members" })
        if (payload.role === "owner" && actor.role !== "owner") {
          return yield* new Forbidden({ message: "only an owner can add an owner" })
        }
        return yield* persist(store.upsertMember(channelId, s.epoch, payload.userId, payload.role, Date.now()), () =>
          Effect.sync(() => {
            s.members.set(payload.userId, { userId: payload.userId, role: payload.role })
            return publicView(s)
          }))
      })),

    Leave: ({ payload }) =>
      supervised(Effect.gen(function*() {
        const s = yield* liveSerial
        // Only members read a private channel: tell the edges to stop the leaver's live feeds. Also when the
        // user is already out, so that a retried Leave (whose first answer was lost) repairs a missed notice.
        const announce = s.channel.visibility === "private"
          ? PubSub.publish(feed, { head: publishedHead, messages: [], left: [payload.userId] })
          : Effect.void
        if (!s.members.has(payload.userId)) {
          yield* announce
          return yield* new NotAMember({ channelId, userId: payload.userId })
        }
        return yield* persist(store.removeMember(channelId, s.epoch, payload.userId), () =>
          Effect.sync(() => s.members.delete(payload.userId)).pipe(Effect.zipRight(announce), Effect.map(() => publicView(s))))
      })),

    Post: ({ payload }) => supervised(post(payload.items)),

    History: ({ payload }) =>
      Rpc.fork(supervised(
        Effect.gen(function*() {
          const s = yield* readable(payload.readerId)
          return yield* between(s, payload.afterSeq, s.head, payload.limit)
        }),
        "forked"
      )),

    CheckReader: ({ payload }) =>
      Rpc.fork(supervised(Effect.map(readable(payload.readerId), (s) => ({ head: s.head })), "forked")),

    Info: () => supervised(Effect.map(liveSerial, publicView)),

    Subscribe: ({ payload }) =>
      Rpc.fork(Stream.unwrapScoped(supervised(Effect.gen(function*() {
        const s = yield* live
        const subscription = yield* PubSub.subscribe(feed)
        followers++
        yield* Effect.addFinalizer(() => Effect.sync(() => followers--))
        // Everything committed up to `head` comes from history; everything
        // after it is already queued in `subscription`.
        const head = s.head
        // The first chunk tells where the follower stands and, for a private
        // channel, who may read it: an edge (re)opening its feed drops local
        // readers who left while it was not listening.
        const header: FeedChunk = {
          head: payload.afterSeq === undefined ? head : Math.min(payload.afterSeq, head),
          messages: [],
          ...(s.channel.visibility === "private" ? { members: Array.from(s.members.keys()) } : {})
        }
        const backlog = payload.afterSeq === undefined || payload.afterSeq >= head
          ? Stream.make(header)
          : Stream.concat(Stream.make(header), Stream.paginateChunkEffect(payload.afterSeq, (after) =>
            between(s, after, head, 1000).pipe(Effect.map((messages) => {
              const last = messages.length > 0 ? messages[messages.length - 1]!.seq : head
              const chunk: FeedChunk = { head: last, messages }
              return [Chunk.of(chunk), last >= head ? Option.none() : Option.some(last)] as const
            }))
          ))
        const liveChunks = Stream.fromQueue(subscription).pipe(
          Stream.map((chunk): FeedChunk =>
            chunk.messages.length > 0 && chunk.messages[0]!.seq <= head
              ? { ...chunk, messages: chunk.messages.filter((m) => m.seq > head) }
              : chunk
          )
        )
        return Stream.concat(backlog, liveChunks)
      }), "forked"))),
  })
}))
