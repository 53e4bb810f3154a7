/**
 * The Channel entity's UpdateChannel ("manage channel"): decided with
 * `MembershipPolicy.updateChannel` as a serial handler, persisted in
 * one fenced statement, applied to the state and audited. A channel made
 * private is at once invisible to non-members: every later request is
 * checked against the new state, and the edges get the member list, so that
 * they drop every other reader's live feed.
 */
import type { Rpc } from "@effect/rpc"
import { Effect } from "effect"
import type { UpdateChannel } from "../../../domain/Channel.ts"
import { publicView } from "./ChannelState.ts"
import type { Parts, Serial } from "./EntityParts.ts"
import * as Membership from "./MembershipPolicy.ts"

export const updateChannel = (parts: Parts, serial: Serial, payload: Rpc.Payload<typeof UpdateChannel>) =>
  Effect.flatMap(parts.access.roleOf(payload.actorId), (actorRole) =>
    serial(Effect.gen(function*() {
      const { channelId, guards, store } = parts
      const s = yield* parts.cell.liveSerial
      const { actorId, changes, ip } = payload
      const decided = yield* parts.access.decide("update", actorId, Membership.updateChannel(s, channelId, { actorId, actorRole, changes }), ip)
      if (decided._tag === "Unchanged") return publicView(s)
      const before = { name: s.channel.name, visibility: s.channel.visibility }
      const after = { name: decided.name, visibility: decided.visibility }
      yield* guards.persist(store.updateSettings(channelId, s.epoch, after.name, after.visibility), () =>
        Effect.sync(() => {
          s.channel = { ...s.channel, ...after }
        }))
      if (before.visibility === "public" && after.visibility === "private") yield* parts.feed.readers(Array.from(s.members.keys()))
      yield* parts.access.changed("updated", actorId, { from: before, to: after }, ip)
      return publicView(s)
    })))
