/**
 * Who may change a channel's membership, as pure decisions over its state:
 * each returns the change to persist (`Upsert`, `Remove`), `Unchanged`, or the
 * error the caller gets. The entity persists the change and applies it.
 */
import { Either } from "effect"
import type { Role } from "../../../domain/Channel.ts"
import { Forbidden, NotAMember } from "../../../domain/Errors.ts"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"
import type { Live } from "./ChannelState.ts"

export type Change =
  | { readonly _tag: "Unchanged" }
  | { readonly _tag: "Upsert"; readonly userId: UserId; readonly role: Role }
  | { readonly _tag: "Remove"; readonly userId: UserId }

const unchanged: Change = { _tag: "Unchanged" }

/** Anyone joins a public channel (idempotent); a private one needs `AddMember`. */
export const join = (s: Live, userId: UserId): Either.Either<Change, Forbidden> => {
  if (s.members.has(userId)) return Either.right(unchanged)
  if (s.channel.visibility === "private") {
    return Either.left(new Forbidden({ message: "private channel: ask an owner or admin to add you" }))
  }
  return Either.right({ _tag: "Upsert", userId, role: "member" })
}

/** The channel's owners. */
const owners = (s: Live) => {
  let n = 0
  for (const m of s.members.values()) if (m.role === "owner") n++
  return n
}

/**
 * An owner or admin adds a member or sets a member's role (idempotent).
 * Only an owner makes an owner or changes an owner's role, and a channel
 * never loses its last owner: demoting the only owner is `Forbidden`.
 */
export const addMember = (
  s: Live,
  channelId: ChannelId,
  actorId: UserId,
  userId: UserId,
  role: Role
): Either.Either<Change, Forbidden | NotAMember> => {
  const actor = s.members.get(actorId)
  if (actor === undefined) return Either.left(new NotAMember({ channelId, userId: actorId }))
  if (actor.role === "member") return Either.left(new Forbidden({ message: "only owners and admins add members" }))
  const current = s.members.get(userId)?.role
  if (current === role) return Either.right(unchanged)
  if (role === "owner" && actor.role !== "owner") {
    return Either.left(new Forbidden({ message: "only an owner can add an owner" }))
  }
  if (current === "owner") {
    if (actor.role !== "owner") return Either.left(new Forbidden({ message: "only an owner can change an owner's role" }))
    if (owners(s) === 1) {
      return Either.left(new Forbidden({ message: "a channel keeps at least one owner: make another member an owner first" }))
    }
  }
  return Either.right({ _tag: "Upsert", userId, role })
}

/**
 * A member leaves. The last owner cannot (`Forbidden`) while others remain:
 * it must first make another member an owner. An owner alone in the channel
 * may leave (the channel is then without members).
 */
export const leave = (s: Live, channelId: ChannelId, userId: UserId): Either.Either<Change, NotAMember | Forbidden> => {
  const member = s.members.get(userId)
  if (member === undefined) return Either.left(new NotAMember({ channelId, userId }))
  if (member.role === "owner" && owners(s) === 1 && s.members.size > 1) {
    return Either.left(new Forbidden({ message: "the last owner cannot leave: make another member an owner first" }))
  }
  return Either.right({ _tag: "Remove", userId })
}
