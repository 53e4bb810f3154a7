/**
 * Managing members and channels on two real nodes sharing one Postgres
 * database: a member removed from a private channel (a WebSocket frame on
 * node A) stops receiving on every node at once and can no longer read; the
 * same through typed RPC (a subscriber's stream ends) and REST; a channel
 * made private is at once hidden from non-members on every door, their live
 * feeds dropped; a workspace moderator removes plain members of a public
 * channel. Every refusal is typed and writes nothing; every change and
 * refusal is audited with the client's address.
 */
import { Effect, Either, Fiber, Stream } from "effect"
import { ChannelId, ChannelNotFound, NotAMember, PlexiClient, UserId } from "plexichat/client"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { authClient, call, type TokenPair } from "../fixtures/AuthClient.ts"
import { rest, WsClient } from "../fixtures/Clients.ts"
import { query } from "../fixtures/ClusterHelpers.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const password = "correct horse battery staple"
const env = { PLEXI_AUTH_ARGON2_MEMORY_KIB: "1024", PLEXI_AUTH_ARGON2_TIME_COST: "1" }
const loopback = "127.0.0.1"

describe("channel management on two nodes", () => {
  let db: TestDatabase
  let a: NodeProcess
  let b: NodeProcess
  let workspaceOwner: TokenPair
  const unique = () => Math.random().toString(36).slice(2, 8)

  beforeAll(async () => {
    db = await makeTestDatabase()
    ;[a, b] = await Promise.all([
      startNode({ name: "cm-a", databaseUrl: db.url, env }),
      startNode({ name: "cm-b", databaseUrl: db.url, env })
    ])
    workspaceOwner = await authClient(a.url).signUp(`owner-${unique()}`, password)
  }, 120_000)
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await db?.drop()
  })

  const sql = <A extends Record<string, unknown>>(text: string, values: Array<unknown> = []) => query<A>(db.url, text, values)
  const member = () => authClient(a.url).signUp(`m-${unique()}`, password)
  /** What a refusal must leave as it was: the channel's row and its members. */
  const rows = async (channelId: string) => ({
    channel: await sql<{ name: string; visibility: string }>("SELECT name, visibility FROM plexi_channels WHERE id = $1", [channelId]),
    members: await sql<{ user_id: string; role: string }>("SELECT user_id, role FROM plexi_channel_members WHERE channel_id = $1 ORDER BY user_id", [channelId])
  })
  const expectAudited = (query: string, match: Record<string, unknown>) =>
    expect.poll(async () => {
      const entries = (await call(a.url, "GET", `/admin/audit?${query}`, undefined, workspaceOwner.accessToken)).body as Array<any>
      return entries.some((e) => Object.entries(match).every(([k, v]) => JSON.stringify(e[k]) === JSON.stringify(v)))
    }, { timeout: 10_000, interval: 100 }).toBe(true)
  /** A channel of `owner` with these members added over REST. */
  const channelOf = async (owner: TokenPair, visibility: "public" | "private", members: ReadonlyArray<TokenPair>) => {
    const api = rest(a.url, owner.accessToken)
    const channelId = (await api.createChannel(`room ${unique()}`, visibility)).id
    for (const m of members) await api.call("POST", `/channels/${channelId}/members`, { userId: m.userId })
    return { api, channelId }
  }

  it("a member removed with a WebSocket frame on node A stops receiving on both nodes at once and can no longer read", async () => {
    const [owner, bob, carol] = [await member(), await member(), await member()]
    const { api, channelId } = await channelOf(owner, "private", [bob, carol])
    const bobSockets = [await WsClient.connect(a.wsUrl, bob.accessToken), await WsClient.connect(b.wsUrl, bob.accessToken)]
    const carolOnB = await WsClient.connect(b.wsUrl, carol.accessToken)
    const ownerOnA = await WsClient.connect(a.wsUrl, owner.accessToken)
    for (const ws of [...bobSockets, carolOnB, ownerOnA]) expect(await ws.request({ type: "subscribe", channelId })).toMatchObject({ type: "subscribed" })
    await api.post(channelId, "m1", "before")
    for (const ws of bobSockets) await ws.waitFor((f) => f.type === "message" && f.message.seq === 1)

    const reply = await ownerOnA.request({ type: "remove_member", channelId, userId: bob.userId })
    expect(reply).toMatchObject({ type: "channel", channel: { id: channelId } })
    expect(reply.channel.members.map((m: { userId: string }) => m.userId).sort()).toEqual([owner.userId, carol.userId].sort())
    for (const ws of bobSockets) await ws.waitFor((f) => f.type === "unsubscribed" && f.channelId === channelId && f.reason === "not_a_member")
    await api.post(channelId, "m2", "after")
    // Carol (node B) and the owner (node A) got seq 2; a leak to bob would come before his pong on each node.
    await carolOnB.waitFor((f) => f.type === "message" && f.message.seq === 2)
    await ownerOnA.waitFor((f) => f.type === "message" && f.message.seq === 2)
    for (const ws of bobSockets) {
      expect(await ws.request({ type: "ping" })).toMatchObject({ type: "pong" })
      expect(ws.messages(channelId).map((m) => m.seq)).toEqual([1])
      for (const frame of [{ type: "history" }, { type: "subscribe", lastSeq: 0 }, { type: "post", clientMsgId: "x", body: "hi" }]) {
        expect(await ws.request({ ...frame, channelId })).toMatchObject({ type: "error", code: "channel_not_found", channelId })
      }
    }
    // A retry is not_a_member and writes nothing; a plain member may not remove anyone.
    expect(await ownerOnA.request({ type: "remove_member", channelId, userId: bob.userId })).toMatchObject({ code: "not_a_member", userId: bob.userId })
    const before = await rows(channelId)
    expect(await carolOnB.request({ type: "remove_member", channelId, userId: owner.userId })).toMatchObject({ code: "forbidden" })
    expect(await carolOnB.request({ type: "update_channel", channelId, name: "mine" })).toMatchObject({ code: "forbidden" })
    expect(await rows(channelId)).toEqual(before)
    expect(before.members.map((m) => m.user_id)).not.toContain(bob.userId)
    await expectAudited(`actor=${owner.userId}&action=channel.member_removed`, { target: channelId, ip: loopback, details: { userId: bob.userId, role: "member" } })
    await expectAudited(`actor=${owner.userId}&action=channel.remove_member.denied`, { target: channelId, ip: loopback })
    await expectAudited(`actor=${owner.userId}&action=channel.member_added`, { target: channelId, ip: loopback, details: { userId: bob.userId, role: "member" } })
    await expectAudited(`actor=${carol.userId}&action=channel.update.denied`, { target: channelId, ip: loopback })
    // Bob's refused history and subscribe frames, on both nodes: each audited with the socket's address.
    await expect.poll(async () => {
      const entries = (await call(a.url, "GET", `/admin/audit?actor=${bob.userId}&action=channel.read.denied`, undefined, workspaceOwner.accessToken)).body as Array<any>
      return entries.map((e) => [e.target, e.ip])
    }, { timeout: 10_000, interval: 100 }).toEqual(Array.from({ length: 4 }, () => [channelId, loopback]))
    for (const ws of [...bobSockets, carolOnB, ownerOnA]) ws.close()
  }, 60_000)

  it("the same through the typed RPC client: the removed member's stream on node B ends, typed refusals write nothing", async () => {
    const [owner, dave, erin] = [await member(), await member(), await member()]
    const { api, channelId: raw } = await channelOf(owner, "private", [dave, erin])
    const channelId = ChannelId.make(raw)
    const as = <A, E>(node: NodeProcess, who: TokenPair, f: (c: PlexiClient["Type"]) => Effect.Effect<A, E>) =>
      Effect.runPromise(Effect.either(Effect.flatMap(PlexiClient, f).pipe(Effect.provide(PlexiClient.layer({ url: node.url, token: who.accessToken })))))
    await api.post(raw, "r1", "first")
    // Dave follows on node B: once his stream delivered the first message, he is attached to B's feed.
    let attached!: () => void
    const following = new Promise<void>((resolve) => (attached = resolve))
    const daveStream = Effect.runFork(Effect.flatMap(PlexiClient, (c) =>
      c.Subscribe({ channelId, afterSeq: 0 }).pipe(Stream.tap(() => Effect.sync(attached)), Stream.runCollect, Effect.either)).pipe(
        Effect.provide(PlexiClient.layer({ url: b.url, token: dave.accessToken }))
      ))
    await following

    const removed = await as(a, owner, (c) => c.RemoveMember({ channelId, userId: UserId.make(dave.userId) }))
    expect(Either.isRight(removed) && removed.right.members.map((m) => m.userId)).not.toContain(dave.userId)
    const ended = await Effect.runPromise(Fiber.join(daveStream))
    expect(Either.isLeft(ended) && ended.left).toEqual(new NotAMember({ channelId, userId: UserId.make(dave.userId) }))
    expect((await as(b, dave, (c) => c.History({ channelId }))).pipe(Either.flip, Either.getOrNull)).toEqual(new ChannelNotFound({ channelId }))
    const resubscribed = await as(b, dave, (c) => c.Subscribe({ channelId }).pipe(Stream.take(1), Stream.runDrain))
    expect(Either.isLeft(resubscribed) && resubscribed.left).toEqual(new ChannelNotFound({ channelId }))
    // Both refused reads (History, and the reader check of the Subscribe) are audited with the address.
    await expect.poll(async () => {
      const entries = (await call(a.url, "GET", `/admin/audit?actor=${dave.userId}&action=channel.read.denied`, undefined, workspaceOwner.accessToken)).body as Array<any>
      return entries.map((e) => [e.target, e.ip])
    }, { timeout: 10_000, interval: 100 }).toEqual([[raw, loopback], [raw, loopback]])

    const before = await rows(raw)
    const refusals = await Promise.all([
      as(b, dave, (c) => c.RemoveMember({ channelId, userId: UserId.make(erin.userId) })),
      as(b, erin, (c) => c.RemoveMember({ channelId, userId: UserId.make(owner.userId) })),
      as(a, erin, (c) => c.UpdateChannel({ channelId, visibility: "public" })),
      as(a, owner, (c) => c.RemoveMember({ channelId, userId: UserId.make(dave.userId) }))
    ])
    expect(refusals.map((r) => Either.isLeft(r) && r.left._tag)).toEqual(["ChannelNotFound", "Forbidden", "Forbidden", "NotAMember"])
    expect(await rows(raw)).toEqual(before)
    const renamed = await as(b, owner, (c) => c.UpdateChannel({ channelId, name: "renamed over rpc" }))
    expect(Either.isRight(renamed) && renamed.right).toMatchObject({ name: "renamed over rpc", visibility: "private" })
    expect((await rows(raw)).channel).toEqual([{ name: "renamed over rpc", visibility: "private" }])
    await expectAudited(`actor=${owner.userId}&action=channel.updated`, { target: raw, ip: loopback })
    await expectAudited(`actor=${dave.userId}&action=channel.remove_member.denied`, { target: raw, ip: loopback, details: { error: "ChannelNotFound" } })
  }, 60_000)

  it("a public channel made private over REST is at once hidden from non-members on every door, their live feeds dropped", async () => {
    const [owner, grace, frank] = [await member(), await member(), await member()]
    const { api, channelId } = await channelOf(owner, "public", [grace])
    const frankSockets = [await WsClient.connect(a.wsUrl, frank.accessToken), await WsClient.connect(b.wsUrl, frank.accessToken)]
    const graceOnB = await WsClient.connect(b.wsUrl, grace.accessToken)
    for (const ws of [...frankSockets, graceOnB]) expect(await ws.request({ type: "subscribe", channelId })).toMatchObject({ type: "subscribed" })
    const settings = (who: TokenPair, body: unknown) => call(a.url, "POST", `/channels/${channelId}/settings`, body, who.accessToken)

    const before = await rows(channelId)
    const refused = [
      await settings(grace, { visibility: "private" }),
      await settings(frank, { name: "taken over" }),
      await call(a.url, "DELETE", `/channels/${channelId}/members/${owner.userId}`, undefined, grace.accessToken),
      await settings(owner, { name: "   " }),
      await settings(owner, { name: "x".repeat(81) }),
      await settings(owner, { visibility: "secret" })
    ]
    expect(refused.map((r) => [r.status, r.body._tag])).toEqual([
      [403, "Forbidden"], [403, "NotAMember"], [403, "Forbidden"], [400, "HttpApiDecodeError"], [400, "HttpApiDecodeError"], [400, "HttpApiDecodeError"]
    ])
    expect(await rows(channelId)).toEqual(before)

    const made = await settings(owner, { name: "inner circle", visibility: "private" })
    expect(made).toMatchObject({ status: 200, body: { id: channelId, name: "inner circle", visibility: "private" } })
    for (const ws of frankSockets) await ws.waitFor((f) => f.type === "unsubscribed" && f.channelId === channelId && f.reason === "not_a_member")
    await api.post(channelId, "p1", "members only")
    await graceOnB.waitFor((f) => f.type === "message" && f.message.seq === 1)
    for (const ws of frankSockets) {
      expect(await ws.request({ type: "ping" })).toMatchObject({ type: "pong" })
      expect(ws.messages(channelId)).toEqual([])
      expect(await ws.request({ type: "subscribe", channelId })).toMatchObject({ type: "error", code: "channel_not_found" })
    }
    const missingId = `c_missing${unique()}`
    const masked = (body: unknown, id: string) => JSON.parse(JSON.stringify(body).replaceAll(id, "<id>"))
    for (const node of [a, b]) {
      for (const [method, suffix] of [["GET", "/messages"], ["POST", "/join"], ["POST", "/settings"]] as const) {
        const body = method === "GET" ? undefined : suffix === "/settings" ? { visibility: "public" } : undefined
        const secret = await call(node.url, method, `/channels/${channelId}${suffix}`, body, frank.accessToken)
        const missing = await call(node.url, method, `/channels/${missingId}${suffix}`, body, frank.accessToken)
        expect(secret.status, `${method} ${suffix}`).toBe(404)
        expect(masked(secret.body, channelId)).toEqual(masked(missing.body, missingId))
      }
      expect((await call(node.url, "GET", `/cluster/channels/${channelId}`, undefined, frank.accessToken)).status).toBe(404)
      expect((await call(node.url, "GET", `/cluster/channels/${channelId}`, undefined, grace.accessToken)).status).toBe(200)
    }
    expect((await rows(channelId)).channel).toEqual([{ name: "inner circle", visibility: "private" }])
    await expectAudited(`actor=${owner.userId}&action=channel.updated`, {
      target: channelId,
      ip: loopback,
      details: { from: { name: before.channel[0]!.name, visibility: "public" }, to: { name: "inner circle", visibility: "private" } }
    })
    await expectAudited(`actor=${frank.userId}&action=channel.update.denied`, { target: channelId, ip: loopback, details: { error: "NotAMember" } })
    // The entity's older entries carry the address too: frank's join and read of the hidden channel.
    for (const action of ["channel.join.denied", "channel.read.denied"]) {
      await expectAudited(`actor=${frank.userId}&action=${action}`, { target: channelId, ip: loopback, details: { error: "ChannelNotFound" } })
    }
    for (const ws of [...frankSockets, graceOnB]) ws.close()
  }, 60_000)

  it("a workspace moderator removes plain members of a public channel over REST, not its admins, and nothing of a private one", async () => {
    const [owner, moderator, admin, plain] = [await member(), await member(), await member(), await member()]
    const promoted = await call(a.url, "POST", `/admin/users/${moderator.userId}/role`, { role: "moderator" }, workspaceOwner.accessToken)
    expect(promoted.status).toBe(200)
    const { api, channelId } = await channelOf(owner, "public", [plain])
    await api.call("POST", `/channels/${channelId}/members`, { userId: admin.userId, role: "admin" })
    const hidden = (await channelOf(owner, "private", [plain])).channelId
    const kick = (node: NodeProcess, id: string, target: TokenPair) => call(node.url, "DELETE", `/channels/${id}/members/${target.userId}`, undefined, moderator.accessToken)
    // Node B caches roles for up to 2 s: it sees the promotion within that.
    const before = await rows(channelId)
    expect((await kick(a, channelId, admin)).body).toMatchObject({ _tag: "Forbidden", message: "only an owner can remove an admin" })
    expect((await kick(a, hidden, plain)).body._tag).toBe("ChannelNotFound")
    expect(await rows(channelId)).toEqual(before)
    await expect.poll(async () => (await kick(b, channelId, plain)).status, { timeout: 5000, interval: 200 }).toBe(200)
    expect((await rows(channelId)).members.map((m) => m.user_id)).not.toContain(plain.userId)
    expect((await kick(a, channelId, plain)).body).toMatchObject({ _tag: "NotAMember", userId: plain.userId })
    await expectAudited(`actor=${moderator.userId}&action=channel.member_removed`, { target: channelId, ip: loopback, details: { userId: plain.userId, role: "member" } })
    await expectAudited(`actor=${moderator.userId}&action=channel.remove_member.denied`, { target: hidden, ip: loopback })
  }, 60_000)

  it("documents both operations in the OpenAPI document, with their typed errors", async () => {
    const doc = await (await fetch(`${a.url}/api/v1/openapi.json`)).json() as {
      paths: Record<string, Record<string, { description?: string; responses: Record<string, unknown> }>>
    }
    const remove = doc.paths["/api/v1/channels/{channelId}/members/{userId}"]!.delete!
    const settings = doc.paths["/api/v1/channels/{channelId}/settings"]!.post!
    for (const operation of [remove, settings]) {
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["200", "400", "403", "404", "503"]))
      for (const tag of ["Forbidden", "NotAMember", "ChannelNotFound"]) expect(JSON.stringify(operation.responses)).toContain(tag)
    }
    expect(remove.description).toContain("moderators remove plain members")
    expect(settings.description).toContain("invisible to non-members")
  })
})
