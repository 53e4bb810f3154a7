/**
 * Workspace roles inside the Channel entity (called directly, as the cluster
 * delivers requests, with no edge in between): guests only act where a
 * member added them, workspace admins act as channel admins in public
 * channels but do not see private ones, and every refusal is audited and
 * writes nothing.
 */
import { describe, expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { WorkspaceRole } from "../../domain/Auth.ts"
import { ChannelNotFound } from "../../domain/Errors.ts"
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

const deniedActions = (actor: string) =>
  Effect.gen(function*() {
    const audit = yield* AuditLog
    yield* audit.flush
    return (yield* audit.query({ actor })).map((e) => e.action)
  })

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
})
