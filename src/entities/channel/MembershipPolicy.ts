/**
 * Who may do what in a channel (docs/SECURITY.md, "Roles"), as pure
 * decisions over its state and the actor's workspace role: each returns the
 * change to persist (`Upsert`, `Remove`), `Unchanged`, or the error the
 * caller gets. The entity persists the change and applies it.
 *
 * A private channel is invisible to a non-member: every operation answers
 * `ChannelNotFound`, exactly as for a channel that does not exist. In a
 * public channel, workspace owners and admins have a channel admin's powers
 * (whether they are members or not); guests only read and post where they
 * were added, and are only ever plain members. A workspace moderator may
 * remove plain members from public channels.
 */
import { Either } from "effect"
import type { ChannelSettings, Role, Visibility } from "../../../domain/Channel.ts"
import type { WorkspaceRole } from "../../../domain/Auth.ts"
import { ChannelNotFound, Forbidden, NotAMember } from "../../../domain/Errors.ts"
import type { ChannelId, UserId } from "../../../domain/Ids.ts"
import { isWorkspaceAdmin } from "../../roles/WorkspaceRoles.ts"
import type { Live } from "./ChannelState.ts"

export type Change =
  | { readonly _tag: "Unchanged" }
  | { readonly _tag: "Upsert"; readonly userId: UserId; readonly role: Role }
  | { readonly _tag: "Remove"; readonly userId: UserId }

const unchanged: Change = { _tag: "Unchanged" }

/** Whether `userId` cannot even see the channel (a private channel they are not in). */
export const hidden = (s: Live, userId: UserId) => s.channel.visibility === "private" && !s.members.has(userId)

/** Whether a read by a non-member of a public channel needs their workspace role (a guest may not read it). */
export const readNeedsRole = (s: Live, userId: UserId) => s.channel.visibility === "public" && !s.members.has(userId)

/**
 * Whether `userId` may read (history, subscribe): members always; anyone
 * but a guest in a public channel; nobody else (and a private channel is then
 * not found). `role` is needed only when `readNeedsRole`.
 */
export const read = (s: Live, channelId: ChannelId, userId: UserId, role: WorkspaceRole | undefined): Either.Either<void, ChannelNotFound | NotAMember> => {
  if (s.members.has(userId)) return Either.void
  if (s.channel.visibility === "private") return Either.left(new ChannelNotFound({ channelId }))
  return role === "guest" ? Either.left(new NotAMember({ channelId, userId })) : Either.void
}

/** Anyone but a guest joins a public channel (idempotent); a private one needs `AddMember` (and is not found). */
export const join = (s: Live, channelId: ChannelId, userId: UserId, role: WorkspaceRole): Either.Either<Change, ChannelNotFound | Forbidden> => {
  if (s.members.has(userId)) return Either.right(unchanged)
  if (s.channel.visibility === "private") return Either.left(new ChannelNotFound({ channelId }))
  if (role === "guest") return Either.left(new Forbidden({ message: "guests join a channel only when a member adds them" }))
  return Either.right({ _tag: "Upsert", userId, role: "member" })
}

/** The channel's owners. */
const owners = (s: Live) => {
  let n = 0
  for (const m of s.members.values()) if (m.role === "owner") n++
  return n
}

/** The actor's powers in the channel: their channel role, raised to `admin` for a workspace admin in a public channel. */
const powersOf = (s: Live, actorId: UserId, actorRole: WorkspaceRole): Role | undefined => {
  const own = s.members.get(actorId)?.role
  if (s.channel.visibility === "public" && isWorkspaceAdmin(actorRole) && own !== "owner") return "admin"
  return own
}

/**
 * The powers of an actor who manages the channel, or why they have none: a
 * private channel they are not in is not found, a non-member without powers
 * is `NotAMember`, a plain member is `Forbidden` (with `refusal`).
 */
const managing = <P extends Role | "moderator">(
  s: Live,
  channelId: ChannelId,
  actorId: UserId,
  powers: P | undefined,
  refusal: string
): Either.Either<Exclude<P, "member">, ChannelNotFound | NotAMember | Forbidden> => {
  if (hidden(s, actorId)) return Either.left(new ChannelNotFound({ channelId }))
  if (powers === undefined) return Either.left(new NotAMember({ channelId, userId: actorId }))
  if (powers === "member") return Either.left(new Forbidden({ message: refusal }))
  return Either.right(powers as Exclude<P, "member">)
}

export interface AddMemberRequest {
  readonly actorId: UserId
  readonly actorRole: WorkspaceRole
  readonly userId: UserId
  readonly userRole: WorkspaceRole
  readonly role: Role
}

/**
 * An owner or admin adds a member or sets a member's role (idempotent).
 * Only an owner makes an owner or changes an owner's role, a guest is only
 * ever a plain member, and a channel never loses its last owner: demoting
 * the only owner is `Forbidden`.
 */
export const addMember = (s: Live, channelId: ChannelId, r: AddMemberRequest): Either.Either<Change, ChannelNotFound | Forbidden | NotAMember> => {
  const powers = managing(s, channelId, r.actorId, powersOf(s, r.actorId, r.actorRole), "only owners and admins add members")
  if (Either.isLeft(powers)) return Either.left(powers.left)
  const actor = powers.right
  const current = s.members.get(r.userId)?.role
  if (current === r.role) return Either.right(unchanged)
  if (r.role !== "member" && r.userRole === "guest") return Either.left(new Forbidden({ message: "a guest is only ever a plain member of a channel" }))
  if (r.role === "owner" && actor !== "owner") {
    return Either.left(new Forbidden({ message: "only an owner can add an owner" }))
  }
  if (current === "owner") {
    if (actor !== "owner") return Either.left(new Forbidden({ message: "only an owner can change an owner's role" }))
    if (owners(s) === 1) {
      return Either.left(new Forbidden({ message: "a channel keeps at least one owner: make another member an owner first" }))
    }
  }
  return Either.right({ _tag: "Upsert", userId: r.userId, role: r.role })
}

/**
 * A member leaves. The last owner cannot (`Forbidden`) while others remain:
 * it must first make another member an owner. An owner alone in the channel
 * may leave (the channel is then without members).
 */
export const leave = (s: Live, channelId: ChannelId, userId: UserId): Either.Either<Change, ChannelNotFound | NotAMember | Forbidden> => {
  const member = s.members.get(userId)
  if (member === undefined) {
    return Either.left(s.channel.visibility === "private" ? new ChannelNotFound({ channelId }) : new NotAMember({ channelId, userId }))
  }
  if (member.role === "owner" && owners(s) === 1 && s.members.size > 1) {
    return Either.left(new Forbidden({ message: "the last owner cannot leave: make another member an owner first" }))
  }
  return Either.right({ _tag: "Remove", userId })
}

export interface RemoveMemberRequest {
  readonly actorId: UserId
  readonly actorRole: WorkspaceRole
  readonly userId: UserId
}

/** Who may remove whom: an owner anyone, an admin plain members, a moderator (workspace, public channel) plain members. */
const removes: { readonly [R in Role | "moderator"]: ReadonlySet<Role> } = {
  owner: new Set(["owner", "admin", "member"]),
  admin: new Set(["member"]),
  moderator: new Set(["member"]),
  member: new Set()
}

/**
 * An owner or admin removes a member (a kick); see `removes` for whom. The
 * last owner is never removed. `NotAMember` when the target is not in the
 * channel: a retry of a removal that went through answers it, and writes
 * nothing.
 */
export const removeMember = (
  s: Live,
  channelId: ChannelId,
  r: RemoveMemberRequest
): Either.Either<Change, ChannelNotFound | Forbidden | NotAMember> => {
  const own = powersOf(s, r.actorId, r.actorRole)
  const moderates = s.channel.visibility === "public" && r.actorRole === "moderator" && (own === undefined || own === "member")
  const powers = managing(s, channelId, r.actorId, moderates ? "moderator" : own, "only owners, admins and moderators remove members")
  if (Either.isLeft(powers)) return Either.left(powers.left)
  const actor = powers.right
  const target = s.members.get(r.userId)?.role
  if (target === undefined) return Either.left(new NotAMember({ channelId, userId: r.userId }))
  if (!removes[actor].has(target)) return Either.left(new Forbidden({ message: `only an owner can remove ${target === "owner" ? "an owner" : "an admin"}` }))
  if (target === "owner" && owners(s) === 1) return Either.left(new Forbidden({ message: "the last owner of a channel cannot be removed" }))
  return Either.right({ _tag: "Remove", userId: r.userId })
}

/** What an UpdateChannel changes: nothing, or the channel's settings as they will be. */
export type SettingsChange =
  | { readonly _tag: "Unchanged" }
  | { readonly _tag: "Update"; readonly name: string; readonly visibility: Visibility }

export interface UpdateChannelRequest {
  readonly actorId: UserId
  readonly actorRole: WorkspaceRole
  readonly changes: ChannelSettings
}

/**
 * "Manage channel": an owner or admin (a workspace owner or admin in a public
 * channel) renames it or changes its visibility. Settings equal to the
 * current ones, or none, are `Unchanged`.
 */
export const updateChannel = (
  s: Live,
  channelId: ChannelId,
  r: UpdateChannelRequest
): Either.Either<SettingsChange, ChannelNotFound | Forbidden | NotAMember> => {
  const powers = managing(s, channelId, r.actorId, powersOf(s, r.actorId, r.actorRole), "only owners and admins manage the channel")
  if (Either.isLeft(powers)) return Either.left(powers.left)
  const name = r.changes.name ?? s.channel.name
  const visibility = r.changes.visibility ?? s.channel.visibility
  if (name === s.channel.name && visibility === s.channel.visibility) return Either.right({ _tag: "Unchanged" })
  return Either.right({ _tag: "Update", name, visibility })
}
