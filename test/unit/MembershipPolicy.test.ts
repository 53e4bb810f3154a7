/**
 * The pure channel policy (src/entities/channel/MembershipPolicy.ts) for
 * "manage members" and "manage channel": who removes whom, who renames a
 * channel or changes its visibility, and the typed refusal of everyone else,
 * decided over a channel's state and the actor's workspace role.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import type { WorkspaceRole } from "../../domain/Auth.ts"
import type { Role, Visibility } from "../../domain/Channel.ts"
import { ChannelNotFound, Forbidden, NotAMember } from "../../domain/Errors.ts"
import { ChannelId, UserId } from "../../domain/Ids.ts"
import { created } from "../../src/entities/channel/ChannelState.ts"
import { removeMember, updateChannel } from "../../src/entities/channel/MembershipPolicy.ts"

const channelId = ChannelId.make("c_policy")
const u = (name: string) => UserId.make(name)

/** A channel with these members (by name and channel role). */
const state = (visibility: Visibility, members: Record<string, Role>) =>
  created({
    id: channelId,
    name: "plaza",
    visibility,
    createdBy: u("o1"),
    createdAt: 0,
    members: Object.entries(members).map(([userId, role]) => ({ userId: u(userId), role }))
  }, 1)

const roles = { o1: "owner", o2: "owner", a1: "admin", a2: "admin", m1: "member", m2: "member" } as const

const remove = (visibility: Visibility, actor: string, actorRole: WorkspaceRole, target: string, members: Record<string, Role> = roles) =>
  removeMember(state(visibility, members), channelId, { actorId: u(actor), actorRole, userId: u(target) })

const removed = (target: string) => Either.right({ _tag: "Remove", userId: u(target) })
const forbidden = (message: string) => Either.left(new Forbidden({ message }))

describe("removeMember", () => {
  it("lets an owner remove anyone but the last owner, and an admin only plain members", () => {
    for (const target of ["o2", "a1", "m1"]) expect(remove("private", "o1", "member", target)).toEqual(removed(target))
    expect(remove("private", "o1", "member", "o1")).toEqual(removed("o1"))
    expect(remove("private", "a1", "member", "m1")).toEqual(removed("m1"))
    expect(remove("private", "a1", "member", "a2")).toEqual(forbidden("only an owner can remove an admin"))
    expect(remove("private", "a1", "member", "o1")).toEqual(forbidden("only an owner can remove an owner"))
    const oneOwner = { o1: "owner", m1: "member" } as const
    expect(remove("public", "o1", "member", "o1", oneOwner)).toEqual(forbidden("the last owner of a channel cannot be removed"))
  })

  it("refuses a plain member (Forbidden), a non-member without powers (NotAMember) and a removal of a non-member (NotAMember)", () => {
    expect(remove("public", "m1", "member", "m2")).toEqual(forbidden("only owners, admins and moderators remove members"))
    expect(remove("public", "x", "member", "m1")).toEqual(Either.left(new NotAMember({ channelId, userId: u("x") })))
    expect(remove("public", "o1", "member", "gone")).toEqual(Either.left(new NotAMember({ channelId, userId: u("gone") })))
    expect(remove("private", "a1", "member", "gone")).toEqual(Either.left(new NotAMember({ channelId, userId: u("gone") })))
  })

  it("hides a private channel from a non-member, whatever their workspace role", () => {
    for (const role of ["owner", "admin", "moderator", "member", "guest"] as const) {
      expect(remove("private", "x", role, "m1")).toEqual(Either.left(new ChannelNotFound({ channelId })))
    }
  })

  it("gives workspace owners and admins a channel admin's powers in a public channel only", () => {
    for (const role of ["owner", "admin"] as const) {
      expect(remove("public", "x", role, "m1")).toEqual(removed("m1"))
      expect(remove("public", "x", role, "a1")).toEqual(forbidden("only an owner can remove an admin"))
      expect(remove("public", "m2", role, "o1")).toEqual(forbidden("only an owner can remove an owner"))
    }
  })

  it("lets a workspace moderator remove plain members of a public channel, and nobody else", () => {
    expect(remove("public", "x", "moderator", "m1")).toEqual(removed("m1"))
    expect(remove("public", "m2", "moderator", "m1")).toEqual(removed("m1"))
    expect(remove("public", "x", "moderator", "a1")).toEqual(forbidden("only an owner can remove an admin"))
    expect(remove("public", "x", "moderator", "o1")).toEqual(forbidden("only an owner can remove an owner"))
    expect(remove("private", "m2", "moderator", "m1")).toEqual(forbidden("only owners, admins and moderators remove members"))
    // A moderator who is a channel owner keeps an owner's powers.
    expect(remove("public", "o1", "moderator", "a1")).toEqual(removed("a1"))
  })

  it("never lets a guest remove anyone", () => {
    expect(remove("public", "m1", "guest", "m2")).toEqual(forbidden("only owners, admins and moderators remove members"))
    expect(remove("public", "x", "guest", "m2")).toEqual(Either.left(new NotAMember({ channelId, userId: u("x") })))
  })
})

describe("updateChannel", () => {
  const update = (visibility: Visibility, actor: string, actorRole: WorkspaceRole, changes: { name?: string; visibility?: Visibility }) =>
    updateChannel(state(visibility, roles), channelId, { actorId: u(actor), actorRole, changes })

  it("lets an owner or admin rename and change the visibility, keeping what is not given", () => {
    expect(update("public", "o1", "member", { name: "square" })).toEqual(Either.right({ _tag: "Update", name: "square", visibility: "public" }))
    expect(update("public", "a1", "member", { visibility: "private" })).toEqual(Either.right({ _tag: "Update", name: "plaza", visibility: "private" }))
    expect(update("private", "a1", "member", { name: "vault", visibility: "public" })).toEqual(
      Either.right({ _tag: "Update", name: "vault", visibility: "public" })
    )
  })

  it("answers Unchanged for no settings or the current ones", () => {
    expect(update("public", "o1", "member", {})).toEqual(Either.right({ _tag: "Unchanged" }))
    expect(update("public", "o1", "member", { name: "plaza", visibility: "public" })).toEqual(Either.right({ _tag: "Unchanged" }))
  })

  it("refuses a plain member, a moderator and a guest (Forbidden) and a non-member without powers (NotAMember)", () => {
    for (const role of ["member", "moderator", "guest"] as const) {
      expect(update("public", "m1", role, { name: "mine" })).toEqual(forbidden("only owners and admins manage the channel"))
    }
    expect(update("public", "x", "moderator", { name: "mine" })).toEqual(Either.left(new NotAMember({ channelId, userId: u("x") })))
  })

  it("gives workspace owners and admins the power in public channels, and hides private ones from every non-member", () => {
    expect(update("public", "x", "admin", { visibility: "private" })).toEqual(Either.right({ _tag: "Update", name: "plaza", visibility: "private" }))
    for (const role of ["owner", "admin", "member"] as const) {
      expect(update("private", "x", role, { visibility: "public" })).toEqual(Either.left(new ChannelNotFound({ channelId })))
    }
  })
})
