/**
 * Workspace roles inside the Channel entity (called directly, as the cluster
 * delivers requests, with no edge in between): guests only act where a
 * member added them, workspace admins act as channel admins in public
 * channels but do not see private ones, and every refusal is audited and
 * writes nothing. Managing members (RemoveMember) and the channel
 * (UpdateChannel): the rows change, followers of the feed are told, and
 * every change and refusal is audited with the client's address.
 */
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Chunk, Deferred, Effect, Fiber, Stream } from "effect"
import type { WorkspaceRole } from "../../domain/Auth.ts"
import type { FeedChunk } from "../../domain/Channel.ts"
import { ChannelNotFound, NotAMember } from "../../domain/Errors.ts"
import { AuditLog } from "../../src/audit/AuditLog.ts"
import { accepted, channelClient, freshChannelId, item, user } from "../fixtures/ChannelHelpers.ts"
import { inMemoryCluster } from "../fixtures/InMemoryCluster.ts"

let accounts = 0
/** An account with `role` in plexi_accounts (the table the entity's role lookups read). */
const account = (role: WorkspaceRole) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const userId = user(`u_${role}_${process.pid}_${accounts++}`)
    yield* sql`INSERT INTO plexi_accounts (user_id, username, password_hash, role, created_at, password_changed_at)
      VALUES (${userId}, ${userId}, 'x', ${role}, 0, 0)`
    return userId
  })

const membersOf = (channelId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ user_id: string; role: string }>`SELECT user_id, role FROM plexi_channel_members WHERE channel_id = ${channelId} ORDER BY user_id`)

const auditOf = (actor: string) =>
  Effect.gen(function*() {
    const audit = yield* AuditLog
    yield* audit.flush
    return yield* audit.query({ actor })
  })

const deniedActions = (actor: string) =>
  Effect.map(auditOf(actor), (entries) => entries.map((e) => e.action).filter((action) => action.endsWith(".denied")))

const channelRow = (channelId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ name: string; visibility: string }>`SELECT name, visibility FROM plexi_channels WHERE id = ${channelId}`)

/**
 * Follows the channel's feed (as an edge on another node does); once its first chunk came (the follower is
 * subscribed), answers the wait for the first chunk that matches.
 */
const followUntil = (channel: { Subscribe: (p: { afterSeq?: number }) => Stream.Stream<FeedChunk, unknown> }, match: (c: FeedChunk) => boolean) =>
  Effect.gen(function*() {
    const opened = yield* Deferred.make<void>()
    const fiber = yield* Effect.fork(Stream.runCollect(channel.Subscribe({}).pipe(
      Stream.tap(() => Deferred.succeed(opened, undefined)),
      Stream.filter(match),
      Stream.take(1)
    )))
    yield* Deferred.await(opened)
    return Effect.map(Fiber.join(fiber), (chunks) => Chunk.unsafeHead(chunks))
  })

const ip = "203.0.113.7"

layer(inMemoryCluster(), { excludeTestServices: true, timeout: "60 seconds" })("Channel entity roles", (it) => {
  describe("guests", () => {
    it.effect("a guest creates, joins and reads nothing on their own; once added they read and post as a plain member", () =>
      Effect.gen(function*() {
        const client = yield* channelClient
        const owner = yield* account("member")
        const guest = yield* account("guest")
        const channelId = freshChannelId()
        const channel = client(channelId)
        yield* channel.Create({ name: "lobby", visibility: "public", ownerId: owner })
        yield* channel.Post({ items: [item(owner, "o1")] })

        expect((yield* Effect.flip(client(freshChannelId()).Create({ name: "mine", visibility: "public", ownerId: guest })))._tag).toBe("Forbidden")
        expect((yield* Effect.flip(channel.Join({ userId: guest })))._tag).toBe("Forbidden")
        expect((yield* Effect.flip(channel.History({ readerId: guest, afterSeq: 0, limit: 10 })))._tag).toBe("NotAMember")
        expect((yield* Effect.flip(channel.CheckReader({ readerId: guest })))._tag).toBe("NotAMember")
        expect((yield* Effect.flip(channel.AddMember({ actorId: owner, userId: guest, role: "admin" })))._tag).toBe("Forbidden")
        expect((yield* membersOf(channelId)).map((m) => m.user_id)).toEqual([owner])

        yield* channel.AddMember({ actorId: owner, userId: guest, role: "member" })
        expect((yield* channel.History({ readerId: guest, afterSeq: 0, limit: 10 })).map((m) => m.clientMsgId)).toEqual(["o1"])
        const [posted] = yield* channel.Post({ items: [item(guest, "g1")] })
        expect(accepted(posted!).message.seq).toBe(2)
        expect(yield* deniedActions(guest)).toEqual([
          "channel.create.denied",
          "channel.join.denied",
          "channel.read.denied",
          "channel.read.denied"
        ])
        expect(yield* deniedActions(owner)).toEqual(["channel.add_member.denied"])
      }))
  })

  describe("workspace admins", () => {
    it.effect("a workspace admin manages a public channel's members without being one, short of making owners", () =>
      Effect.gen(function*() {
        const client = yield* channelClient
        const owner = yield* account("member")
        const admin = yield* account("admin")
        const someone = yield* account("member")
        const channelId = freshChannelId()
        const channel = client(channelId)
        yield* channel.Create({ name: "town hall", visibility: "public", ownerId: owner })
        yield* channel.AddMember({ actorId: admin, userId: someone, role: "admin" })
        expect((yield* Effect.flip(channel.AddMember({ actorId: admin, userId: someone, role: "owner" })))._tag).toBe("Forbidden")
        expect((yield* Effect.flip(channel.AddMember({ actorId: admin, userId: owner, role: "member" })))._tag).toBe("Forbidden")
        expect(yield* membersOf(channelId)).toEqual(
          [{ user_id: owner, role: "owner" }, { user_id: someone, role: "admin" }].sort((a, b) => a.user_id.localeCompare(b.user_id))
        )
      }))

    it.effect("a private channel stays invisible to a workspace owner who is not in it", () =>
      Effect.gen(function*() {
        const client = yield* channelClient
        const creator = yield* account("member")
        const workspaceOwner = yield* account("owner")
        const channelId = freshChannelId()
        const channel = client(channelId)
        yield* channel.Create({ name: "hr", visibility: "private", ownerId: creator })
        const expected = new ChannelNotFound({ channelId })
        expect(yield* Effect.flip(channel.History({ readerId: workspaceOwner, afterSeq: 0, limit: 10 }))).toEqual(expected)
        expect(yield* Effect.flip(channel.Join({ userId: workspaceOwner }))).toEqual(expected)
        expect(yield* Effect.flip(channel.AddMember({ actorId: workspaceOwner, userId: workspaceOwner, role: "member" }))).toEqual(expected)
        const [post] = yield* channel.Post({ items: [item(workspaceOwner, "w1")] })
        expect(post).toEqual({ _tag: "Rejected", error: expected })
        expect((yield* membersOf(channelId)).map((m) => m.user_id)).toEqual([creator])
        expect(yield* deniedActions(workspaceOwner)).toEqual([
          "channel.read.denied",
          "channel.join.denied",
          "channel.add_member.denied",
          "channel.post.denied"
        ])
      }))
  })

  describe("managing members and the channel", () => {
    it.effect("audits a member added and a role set, with the address; an AddMember that changes nothing records nothing", () =>
      Effect.gen(function*() {
        const client = yield* channelClient
        const [owner, carol] = [yield* account("member"), yield* account("member")]
        const channel = client(freshChannelId())
        const { id: channelId } = yield* channel.Create({ name: "crew", visibility: "private", ownerId: owner, ip })
        yield* channel.AddMember({ actorId: owner, userId: carol, role: "member", ip })
        yield* channel.AddMember({ actorId: owner, userId: carol, role: "member", ip })
        yield* channel.AddMember({ actorId: owner, userId: carol, role: "admin", ip })
        expect((yield* auditOf(owner)).map((e) => [e.action, e.target, e.ip, e.details])).toEqual([
          ["channel.member_added", channelId, ip, { userId: carol, role: "member" }],
          ["channel.role_changed", channelId, ip, { userId: carol, from: "member", to: "admin" }]
        ])
      }))

    it.effect("an admin removes a plain member of a private channel: the row goes, the feed tells the edges, the entry has the address", () =>
      Effect.gen(function*() {
        const client = yield* channelClient
        const [owner, admin, bob] = [yield* account("member"), yield* account("member"), yield* account("member")]
        const channelId = freshChannelId()
        const channel = client(channelId)
        yield* channel.Create({ name: "board", visibility: "private", ownerId: owner })
        yield* channel.AddMember({ actorId: owner, userId: admin, role: "admin" })
        yield* channel.AddMember({ actorId: owner, userId: bob, role: "member" })
        yield* channel.Post({ items: [item(owner, "o1")] })
        const left = yield* followUntil(channel, (c) => c.left !== undefined)
        const after = yield* channel.RemoveMember({ actorId: admin, userId: bob, ip })
        expect(after.members.map((m) => m.userId)).not.toContain(bob)
        expect((yield* left).left).toEqual([bob])
        expect((yield* membersOf(channelId)).map((m) => m.user_id)).not.toContain(bob)
        expect(yield* Effect.flip(channel.History({ readerId: bob, afterSeq: 0, limit: 10 }))).toEqual(new ChannelNotFound({ channelId }))
        const [posted] = yield* channel.Post({ items: [item(bob, "b1")] })
        expect(posted).toEqual({ _tag: "Rejected", error: new ChannelNotFound({ channelId }) })
        // A retry of the removal is NotAMember and writes nothing.
        expect(yield* Effect.flip(channel.RemoveMember({ actorId: admin, userId: bob, ip }))).toEqual(new NotAMember({ channelId, userId: bob }))
        expect((yield* auditOf(admin)).map((e) => [e.action, e.target, e.ip, e.details])).toEqual([
          ["channel.member_removed", channelId, ip, { userId: bob, role: "member" }],
          ["channel.remove_member.denied", channelId, ip, { error: "NotAMember" }]
        ])
      }))

    it.effect("refuses removals beyond the actor's powers, writing nothing and auditing each with the address", () =>
      Effect.gen(function*() {
        const client = yield* channelClient
        const [owner, admin, other, member, stranger, moderator] = [
          yield* account("member"), yield* account("member"), yield* account("member"),
          yield* account("member"), yield* account("member"), yield* account("moderator")
        ]
        const channelId = freshChannelId()
        const channel = client(channelId)
        yield* channel.Create({ name: "plaza", visibility: "public", ownerId: owner })
        for (const [userId, role] of [[admin, "admin"], [other, "admin"], [member, "member"]] as const) {
          yield* channel.AddMember({ actorId: owner, userId, role })
        }
        const before = yield* membersOf(channelId)
        const refusals = [
          [admin, owner, "Forbidden"], [admin, other, "Forbidden"], [member, admin, "Forbidden"],
          [moderator, admin, "Forbidden"], [owner, owner, "Forbidden"], [stranger, member, "NotAMember"], [owner, stranger, "NotAMember"]
        ] as const
        for (const [actorId, userId, tag] of refusals) {
          expect((yield* Effect.flip(channel.RemoveMember({ actorId, userId, ip })))._tag).toBe(tag)
        }
        expect(yield* membersOf(channelId)).toEqual(before)
        const denials = (actor: string) => Effect.map(auditOf(actor), (entries) => entries.filter((e) => e.action.endsWith(".denied")))
        for (const actor of [admin, member, moderator, owner, stranger]) {
          for (const entry of yield* denials(actor)) expect([entry.action, entry.ip]).toEqual(["channel.remove_member.denied", ip])
        }
        expect((yield* denials(owner)).map((e) => e.details)).toEqual([
          { error: "Forbidden", reason: "the last owner of a channel cannot be removed" },
          { error: "NotAMember" }
        ])
        // A workspace moderator removes a plain member of a public channel.
        yield* channel.RemoveMember({ actorId: moderator, userId: member, ip })
        expect((yield* membersOf(channelId)).map((m) => m.user_id)).not.toContain(member)
      }))

    it.effect("an owner renames a channel and makes it private: stored, in Info, at once hidden from non-members, the feed names the readers", () =>
      Effect.gen(function*() {
        const client = yield* channelClient
        const [owner, member, reader, workspaceAdmin] = [yield* account("member"), yield* account("member"), yield* account("member"), yield* account("admin")]
        const channelId = freshChannelId()
        const channel = client(channelId)
        yield* channel.Create({ name: "plaza", visibility: "public", ownerId: owner })
        yield* channel.Join({ userId: member })
        expect((yield* Effect.flip(channel.UpdateChannel({ actorId: member, changes: { name: "mine" }, ip })))._tag).toBe("Forbidden")
        expect((yield* Effect.flip(channel.UpdateChannel({ actorId: reader, changes: { visibility: "private" }, ip })))._tag).toBe("NotAMember")
        expect(yield* channelRow(channelId)).toEqual([{ name: "plaza", visibility: "public" }])
        expect((yield* channel.History({ readerId: reader, afterSeq: 0, limit: 10 }))).toEqual([])
        const readers = yield* followUntil(channel, (c) => c.members !== undefined)
        const updated = yield* channel.UpdateChannel({ actorId: owner, changes: { name: "back room", visibility: "private" }, ip })
        expect(updated).toMatchObject({ name: "back room", visibility: "private" })
        expect([...(yield* readers).members!].sort()).toEqual([owner, member].sort())
        expect(yield* channelRow(channelId)).toEqual([{ name: "back room", visibility: "private" }])
        expect(yield* channel.Info({})).toMatchObject({ name: "back room", visibility: "private" })
        const hidden = new ChannelNotFound({ channelId })
        expect(yield* Effect.flip(channel.History({ readerId: reader, afterSeq: 0, limit: 10, ip }))).toEqual(hidden)
        expect(yield* Effect.flip(channel.CheckReader({ readerId: reader, ip }))).toEqual(hidden)
        expect(yield* Effect.flip(channel.Join({ userId: reader, ip }))).toEqual(hidden)
        // Private, it is out of the workspace admin's reach too.
        expect(yield* Effect.flip(channel.UpdateChannel({ actorId: workspaceAdmin, changes: { visibility: "public" }, ip }))).toEqual(hidden)
        // The same settings again change nothing and record nothing.
        yield* channel.UpdateChannel({ actorId: owner, changes: { name: "back room" }, ip })
        expect((yield* auditOf(owner)).map((e) => [e.action, e.ip, e.details])).toEqual([
          ["channel.updated", ip, { from: { name: "plaza", visibility: "public" }, to: { name: "back room", visibility: "private" } }]
        ])
        expect((yield* auditOf(member)).map((e) => [e.action, e.ip])).toEqual([["channel.update.denied", ip]])
        expect((yield* auditOf(workspaceAdmin)).map((e) => [e.action, e.ip])).toEqual([["channel.update.denied", ip]])
        expect((yield* auditOf(reader)).map((e) => [e.action, e.ip])).toEqual([
          ["channel.update.denied", ip],
          ["channel.read.denied", ip],
          ["channel.read.denied", ip],
          ["channel.join.denied", ip]
        ])
      }))
  })
})
