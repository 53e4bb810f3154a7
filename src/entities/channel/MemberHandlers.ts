/**
 * The Channel entity's membership handlers: Join, AddMember, Leave and
 * RemoveMember. Each decides with `MembershipPolicy.ts` as a serial handler
 * (one request at a time), persists the change, applies it to the state
 * and, when a user may no longer read the channel, tells the edges to stop
 * their live feeds. What an owner or admin changes (adding a member, setting
 * a role, removing one) is audited; joins and leaves, the users' own doing,
 * are not. Workspace roles are looked up before the request's serial turn,
 * so that a lookup never holds up posts.
 */
import type { Rpc } from "@effect/rpc"
import { Clock, Effect, Either } from "effect"
import type { AddMember, RemoveMember } from "../../../domain/Channel.ts"
import type { UserId } from "../../../domain/Ids.ts"
import { publicView, type Live } from "./ChannelState.ts"
import type { Parts, Serial } from "./EntityParts.ts"
import * as Membership from "./MembershipPolicy.ts"

/** Persists a membership change and applies it to the state. */
const change = ({ channelId, guards, store }: Parts, s: Live, decided: Membership.Change) =>
  Effect.gen(function*() {
    if (decided._tag === "Unchanged") return
    const now = yield* Clock.currentTimeMillis
    const write = decided._tag === "Upsert"
      ? store.upsertMember(channelId, s.epoch, decided.userId, decided.role, now)
      : store.removeMember(channelId, s.epoch, decided.userId)
    yield* guards.persist(write, () =>
      Effect.sync(() => {
        if (decided._tag === "Upsert") s.members.set(decided.userId, { userId: decided.userId, role: decided.role })
        else s.members.delete(decided.userId)
      }))
  })

export const join = (parts: Parts, serial: Serial, userId: UserId, ip: string | undefined) =>
  Effect.flatMap(parts.access.roleOf(userId), (role) =>
    serial(Effect.gen(function*() {
      const s = yield* parts.cell.liveSerial
      yield* change(parts, s, yield* parts.access.decide("join", userId, Membership.join(s, parts.channelId, userId, role), ip))
      return publicView(s)
    })))

export const addMember = (parts: Parts, serial: Serial, payload: Rpc.Payload<typeof AddMember>) =>
  Effect.flatMap(Effect.zip(parts.access.roleOf(payload.actorId), parts.access.roleOf(payload.userId)), ([actorRole, userRole]) =>
    serial(Effect.gen(function*() {
      const s = yield* parts.cell.liveSerial
      const { actorId, ip, role, userId } = payload
      const previous = s.members.get(userId)?.role
      const decided = yield* parts.access.decide("add_member", actorId, Membership.addMember(s, parts.channelId, { ...payload, actorRole, userRole }), ip)
      yield* change(parts, s, decided)
      if (decided._tag !== "Unchanged") {
        yield* previous === undefined
          ? parts.access.changed("member_added", actorId, { userId, role }, ip)
          : parts.access.changed("role_changed", actorId, { userId, from: previous, to: role }, ip)
      }
      return publicView(s)
    })))

export const leave = (parts: Parts, userId: UserId, ip: string | undefined) =>
  Effect.gen(function*() {
    const s = yield* parts.cell.liveSerial
    // Only members read a private channel: tell the edges to stop the leaver's live feeds. Also when the
    // user is already out, so that a retried Leave (whose first answer was lost) repairs a missed notice.
    const announce = s.channel.visibility === "private" ? parts.feed.left(userId) : Effect.void
    const decided = Membership.leave(s, parts.channelId, userId)
    if (Either.isLeft(decided) && decided.left._tag !== "Forbidden") yield* announce
    yield* change(parts, s, yield* parts.access.decide("leave", userId, decided, ip))
    yield* announce
    return publicView(s)
  })

/**
 * Removes a member (a kick). The edges stop the removed user's live feeds
 * when they may no longer read: in a private channel, and a guest in a
 * public one (anyone else still reads a public channel). A retry of a
 * removal that went through (`NotAMember` for the target) repeats that
 * notice, so that a lost first answer cannot leave a feed running.
 */
export const removeMember = (parts: Parts, serial: Serial, payload: Rpc.Payload<typeof RemoveMember>) =>
  Effect.flatMap(Effect.zip(parts.access.roleOf(payload.actorId), parts.access.roleOf(payload.userId)), ([actorRole, userRole]) =>
    serial(Effect.gen(function*() {
      const s = yield* parts.cell.liveSerial
      const { actorId, ip, userId } = payload
      const announce = s.channel.visibility === "private" || userRole === "guest" ? parts.feed.left(userId) : Effect.void
      const role = s.members.get(userId)?.role
      const decided = Membership.removeMember(s, parts.channelId, { actorId, actorRole, userId })
      if (Either.isLeft(decided) && decided.left._tag === "NotAMember" && decided.left.userId === userId) yield* announce
      yield* change(parts, s, yield* parts.access.decide("remove_member", actorId, decided, ip))
      yield* announce
      yield* parts.access.changed("member_removed", actorId, { userId, role }, ip)
      return publicView(s)
    })))
