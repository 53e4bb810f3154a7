/**
 * Behaviour of the sharded Channel entity: the handlers, wired from its parts.
 *
 * - `channel/ChannelState.ts`: the in-memory state and its pure operations;
 * - `channel/ChannelStateCell.ts`: holding and (re)loading the state;
 * - `channel/ChannelGuards.ts`: store failures, uninterruptible writes, supervision;
 * - `channel/PostStep.ts`: the pure step of a Post (state + items → outcomes + rows), run by `PostHandler.ts`;
 * - `channel/ChannelFeed.ts`: the live feed followers subscribe to;
 * - `channel/MembershipPolicy.ts`: who may read, join, add and remove members, leave and manage the channel
 *   (docs/SECURITY.md, "Roles"), run by `MemberHandlers.ts` and `SettingsHandler.ts`;
 *
 * Every check runs here, in the single writer, whichever door the request
 * came through: the actor is the user id the edge put in the payload (the
 * caller its token names; `ownerId`, `userId`, `actorId`, `readerId`, each
 * item's `authorId`), with the client's address in `ip` for the audit.
 * Workspace roles come from `WorkspaceRoles` (a per-node cache; posts never
 * need them). Every refusal by the policy is audited.
 *
 * State is rebuilt from Postgres whenever the entity starts: on first use,
 * after passivation, after its node died and after a crash. Requests are
 * handled one at a time (one lane, held by every serial handler, whether the
 * request came through the cluster's mailbox or directly from this node's
 * edge through `LocalChannels`), which is what makes `seq` gap-free without
 * locks; `Subscribe`, `History` and `CheckReader` are forked so they never
 * hold up posts. Every load claims
 * the channel's fencing epoch, and every write carries it, so an older
 * incarnation elsewhere (a stalled node) can no longer write. A claim, and a
 * Create, succeed only while this runner holds the channel's shard
 * (`ShardHolding.ts`), so such an incarnation cannot claim the channel back.
 */
import { Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { Clock, Context, Deferred, Duration, Effect, Either, Fiber, Option, type Scope, Stream } from "effect"
import { type Channel, ChannelEntity, type Create, type PostItem } from "../../domain/Channel.ts"
import { ChannelAlreadyExists, type ChannelUnavailable, Forbidden } from "../../domain/Errors.ts"
import { ChannelId, type UserId } from "../../domain/Ids.ts"
import { makeAccess } from "./channel/ChannelAccess.ts"
import { GroupCommitWriter } from "../messaging/GroupCommitWriter.ts"
import { type LocalChannel, LocalChannelClosed, LocalChannels } from "../messaging/LocalChannels.ts"
import { CREATED_EPOCH, isRowRefused, MessageStore } from "../messaging/MessageStore.ts"
import { makeFeed } from "./channel/ChannelFeed.ts"
import { ChannelConfig } from "./ChannelConfig.ts"
import { makeGuards } from "./channel/ChannelGuards.ts"
import { created, fromWindow, type Live, publicView } from "./channel/ChannelState.ts"
import { makeStateCell } from "./channel/ChannelStateCell.ts"
import type { Parts, Serial } from "./channel/EntityParts.ts"
import { addMember, join, leave, removeMember } from "./channel/MemberHandlers.ts"
import * as Membership from "./channel/MembershipPolicy.ts"
import { makeEntityDirectPost } from "./channel/DirectPost.ts"
import { updateChannel } from "./channel/SettingsHandler.ts"
import { makePost } from "./channel/PostHandler.ts"
import { makeSerialLane } from "./channel/SerialLane.ts"
import { ShardHolding } from "./ShardHolding.ts"
import { ShardRelease } from "./ShardRelease.ts"

/**
 * Fault-injection points for supervision tests: `beforePost` runs before
 * each Post batch is handled, `beforeRead` at the start of each forked
 * handler (History, CheckReader, Subscribe). The defaults do nothing.
 */
export class ChannelHooks extends Context.Reference<ChannelHooks>()("plexichat/ChannelHooks", {
  defaultValue: (): {
    readonly beforePost: (items: ReadonlyArray<PostItem>) => Effect.Effect<void>
    readonly beforeRead?: (rpc: "History" | "CheckReader" | "Subscribe") => Effect.Effect<void>
  } => ({ beforePost: noPostHook })
}) {}

/** The default `beforePost`: with it, this node's edge may post without a fiber (`DirectPost.ts`). */
const noPostHook = (_items: ReadonlyArray<PostItem>) => Effect.void

const create = (parts: Parts, payload: Rpc.Payload<typeof Create>) =>
  Effect.gen(function*() {
    const { cell, channelId, guards, store } = parts
    // No claim first: the insert itself answers `Taken` for an existing channel.
    const s = yield* cell.knownSerial
    if (s._tag === "Live") return yield* new ChannelAlreadyExists({ channelId })
    const channel: Channel = {
      id: channelId,
      name: payload.name,
      visibility: payload.visibility,
      createdBy: payload.ownerId,
      createdAt: yield* Clock.currentTimeMillis,
      members: [{ userId: payload.ownerId, role: "owner" }]
    }
    const creation = yield* guards.persist(store.createChannel(channel, parts.hold), (creation) =>
      Effect.sync(() => {
        // Not created: someone else did (the next request loads theirs), or another runner holds the shard.
        if (creation === "Created") cell.set(created(channel, CREATED_EPOCH))
        else cell.drop()
        return creation
      }))
    if (creation === "NotHeld") return yield* guards.notHeld
    if (creation === "Taken") return yield* new ChannelAlreadyExists({ channelId })
    return channel
  })

// Workspace roles are looked up before the lane is taken, so that a lookup never holds up posts.

const guardedCreate = (parts: Parts, serial: Serial, payload: Rpc.Payload<typeof Create>) =>
  Effect.flatMap(parts.access.roleOf(payload.ownerId), (role): Effect.Effect<Channel, ChannelAlreadyExists | ChannelUnavailable | Forbidden> =>
    role === "guest"
      ? parts.access.decide("create", payload.ownerId, Either.left(new Forbidden({ message: "guests cannot create channels" })), payload.ip)
      : serial(create(parts, payload)))

/** The state, when `readerId` may read the channel (MembershipPolicy.read). */
const readable = (parts: Parts, readerId: UserId, ip?: string) =>
  Effect.flatMap(parts.cell.live, (s) =>
    Effect.as(
      Effect.flatMap(
        Membership.readNeedsRole(s, readerId) ? parts.access.roleOf(readerId) : Effect.succeed(undefined),
        (role) => parts.access.decide("read", readerId, Membership.read(s, parts.channelId, readerId, role), ip)
      ),
      s
    ))

const makeParts = Effect.gen(function*() {
  const address = yield* Entity.CurrentAddress
  const channelId = ChannelId.make(address.entityId)
  const hold = Option.map((yield* ShardHolding).runner, (runner) => ({ shardId: address.shardId.toString(), runner }))
  const store = yield* MessageStore
  const settings = yield* ChannelConfig
  const guards = makeGuards(channelId, { drop: () => cell.drop(), requestRebuild: () => cell.requestRebuild() })
  const feed = yield* makeFeed(
    { bufferSize: settings.feedBuffer, keepAliveMs: Duration.toMillis(settings.feedKeepAlive) },
    () => cell.isLive()
  )
  const cell = makeStateCell(channelId, store, { ...settings, hold }, guards, (s) => {
    if (s._tag === "Live") feed.loaded(s.head)
  })
  /** Messages `afterSeq < seq <= upTo`, from the window when it covers them. */
  const between = (s: Live, afterSeq: number, upTo: number, limit: number) => {
    const cached = fromWindow(s, afterSeq, upTo, limit)
    if (cached !== undefined) return Effect.succeed(cached)
    return store.range(channelId, afterSeq, limit, upTo).pipe(Effect.catchAll(guards.readFailed))
  }
  const access = yield* makeAccess(channelId, guards)
  return { channelId, store, cell, feed, guards, hold, between, access } satisfies Parts
})

/**
 * Makes the entity reachable from this node's edge without the cluster
 * (`LocalChannels`) for as long as it runs; when it stops, direct posts are
 * refused with `LocalChannelClosed` (the caller goes through the cluster)
 * and direct followers' streams end (they reopen).
 */
const registerLocal = (parts: Parts, handlers: Omit<LocalChannel, "followed">) =>
  Effect.gen(function*() {
    let closed = false
    const ended = yield* Deferred.make<void>()
    yield* Effect.addFinalizer(() => Effect.zipRight(Effect.sync(() => closed = true), Deferred.succeed(ended, void 0)))
    /** Runs a handler while the entity runs; after, the caller goes through the cluster. */
    const whileOpen = <A, E, R>(handler: () => Effect.Effect<A, E, R>): Effect.Effect<A, E | LocalChannelClosed, R> =>
      Effect.suspend((): Effect.Effect<A, E | LocalChannelClosed, R> => closed ? Effect.fail(new LocalChannelClosed()) : handler())
    yield* (yield* LocalChannels).register(parts.channelId, {
      post: (items) => whileOpen(() => handlers.post(items)),
      postDirect: (items, done, trace) => !closed && handlers.postDirect(items, done, trace),
      subscribe: (afterSeq) => Stream.interruptWhenDeferred(handlers.subscribe(afterSeq), ended),
      tap: (afterSeq, sink) => whileOpen(() => handlers.tap(afterSeq, sink)),
      checkReader: (readerId, ip) => whileOpen(() => handlers.checkReader(readerId, ip)),
      followed: parts.feed.followed
    })
  })

/**
 * Ends a follower stream's request once `released` completes, by interrupting
 * the fiber that runs it: that fiber may be waiting for the follower's ack of
 * its last chunk, which the cluster no longer delivers once the shard is being
 * released (interrupting the stream itself would wait for that ack, and so
 * for the whole termination timeout). The follower's edge reopens its feed
 * from its last `seq` (ShardRelease.ts).
 */
const endOnRelease = <A, E, R>(stream: Stream.Stream<A, E, R>, released: Effect.Effect<void>) =>
  Stream.unwrapScoped(Effect.withFiberRuntime<Stream.Stream<A, E, R>, never, Scope.Scope>((fiber) =>
    Effect.as(Effect.forkScoped(Effect.zipRight(released, Fiber.interruptFork(fiber))), stream)))

export const ChannelEntityLive = ChannelEntity.toLayer(Effect.gen(function*() {
  const parts = yield* makeParts
  const { cell, feed, guards: { supervised }, between } = parts
  const writer = yield* GroupCommitWriter
  const settings = yield* ChannelConfig
  const hooks = yield* ChannelHooks
  // Follower streams end once the shard is being handed over, so that the hand-over does not wait for them.
  const shardReleased = (yield* ShardRelease).released((yield* Entity.CurrentAddress).shardId)
  const beforeRead = hooks.beforeRead ?? (() => Effect.void)
  const post = makePost({
    channelId: parts.channelId,
    store: parts.store,
    limits: settings,
    liveSerial: cell.liveSerial,
    readFailed: parts.guards.readFailed,
    between,
    commit: (s, rows, apply) =>
      parts.guards.persist(
        writer.write(parts.channelId, s.epoch, rows).pipe(
          Effect.as(true),
          // Refused for its values: nothing was committed, so the state stays as it is.
          Effect.catchIf((e) => e._tag === "SqlError" && isRowRefused(e), () => Effect.succeed(false))
        ),
        (committed) => committed ? Effect.as(apply(), true) : Effect.succeed(false)
      ),
    published: feed.published
  })

  // One lane for the serial handlers, shared by the mailbox and the direct paths.
  const lane = makeSerialLane()
  const serial = <A, E, R>(effect: Effect.Effect<A, E, R>) => lane.run(supervised(effect))
  const postItems = (items: ReadonlyArray<PostItem>) =>
    serial(Effect.zipRight(hooks.beforePost(items), post(items))).pipe(Effect.tap((outcomes) => parts.access.refusedPosts(items, outcomes)))
  const postDirect = hooks.beforePost === noPostHook ? yield* makeEntityDirectPost({ ...parts, lane, postItems }) : () => false
  const subscribe = (afterSeq: number | undefined) =>
    Stream.unwrapScoped(supervised(
      Effect.zipRight(beforeRead("Subscribe"), Effect.flatMap(cell.live, (s) => feed.follow(s, afterSeq, between))),
      "forked"
    ))

  const tap: LocalChannel["tap"] = (afterSeq, sink) =>
    supervised(
      Effect.zipRight(beforeRead("Subscribe"), Effect.flatMap(cell.live, (s) => feed.tap(s, afterSeq, between, sink))),
      "forked"
    )

  const checkReader = (readerId: UserId, ip?: string) =>
    supervised(
      Effect.zipRight(beforeRead("CheckReader"), Effect.map(readable(parts, readerId, ip), (s) => ({ head: s.head }))),
      "forked"
    )

  yield* registerLocal(parts, { post: postItems, postDirect, subscribe, tap, checkReader })

  return ChannelEntity.of({
    Create: ({ payload }) => guardedCreate(parts, serial, payload),
    Join: ({ payload }) => join(parts, serial, payload.userId, payload.ip),
    AddMember: ({ payload }) => addMember(parts, serial, payload),
    Leave: ({ payload }) => serial(leave(parts, payload.userId, payload.ip)),
    RemoveMember: ({ payload }) => removeMember(parts, serial, payload),
    UpdateChannel: ({ payload }) => updateChannel(parts, serial, payload),
    Post: ({ payload }) => postItems(payload.items),
    History: ({ payload }) =>
      Rpc.fork(supervised(
        Effect.zipRight(
          beforeRead("History"),
          Effect.flatMap(readable(parts, payload.readerId, payload.ip), (s) => between(s, payload.afterSeq, s.head, payload.limit))
        ),
        "forked"
      )),
    CheckReader: ({ payload }) => Rpc.fork(checkReader(payload.readerId, payload.ip)),
    Info: () => serial(Effect.map(cell.liveSerial, publicView)),
    Subscribe: ({ payload }) => Rpc.fork(endOnRelease(subscribe(payload.afterSeq), shardReleased))
  })
}))
