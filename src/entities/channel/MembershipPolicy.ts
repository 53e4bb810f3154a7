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

/** An owner or admin adds a member or sets a member's role. */
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
  if (role === "owner" && actor.role !== "owner") {
    return Either.left(new Forbidden({ message: "only an owner can add an owner" }))
  }
  return Either.right({ _tag: "Upsert", userId, role })
}

/** A member leaves. */
export const leave = (s: Live, channelId: ChannelId, userId: UserId): Either.Either<Change, NotAMember> => {
  if (!s.members.has(userId)) return Either.left(new NotAMember({ channelId, userId }))
  return Either.right({ _tag: "Remove", userId })
}
