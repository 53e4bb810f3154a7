/**
 * Workspace and channel roles, enforced at every door of a real node on real
 * Postgres: a member's privilege escalations (raising their own role,
 * changing another's, demoting the last owner) and their reach into a
 * private channel (post, history, join, leave, add member, subscribe,
 * locate), each refused with a typed error identical to a missing
 * channel's where the channel is private, nothing written, and audited.
 * The same through the typed RPC client, which reaches the Channel entity
 * without the REST handlers, so the check is the entity's.
 */
import { Effect, Either, Stream } from "effect"
import pg from "pg"
import { ChannelId, ChannelNotFound, PlexiClient, UserId } from "plexichat/client"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { authClient, call } from "../fixtures/AuthClient.ts"
import { WsClient } from "../fixtures/Clients.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const password = "correct horse battery staple"
const cheapArgon2 = { PLEXI_AUTH_ARGON2_MEMORY_KIB: "1024", PLEXI_AUTH_ARGON2_TIME_COST: "1" }

describe("roles at every door", () => {
  let db: TestDatabase
  let node: NodeProcess
  let owner: { accessToken: string; userId: string }
  const unique = () => Math.random().toString(36).slice(2, 8)

  beforeAll(async () => {
    db = await makeTestDatabase()
    node = await startNode({ databaseUrl: db.url, env: cheapArgon2 })
    owner = await authClient(node.url).signUp(`owner-${unique()}`, password)
  }, 90_000)
  afterAll(async () => {
    await node?.stop()
    await db?.drop()
  })

  const sql = async <A>(text: string, values: Array<unknown> = []): Promise<Array<A>> => {
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    try {
      return (await client.query(text, values)).rows as Array<A>
    } finally {
      await client.end()
    }
  }
  const roleOf = async (userId: string) => (await sql<{ role: string }>("SELECT role FROM plexi_accounts WHERE user_id = $1", [userId]))[0]!.role
  const member = () => authClient(node.url).signUp(`m-${unique()}`, password)
  const setRole = (token: string, userId: string, role: string) => call(node.url, "POST", `/admin/users/${userId}/role`, { role }, token)
  /** Audit entries as the owner reads them over REST (the log is written in the background: poll). */
  const auditOf = async (query: string) => (await call(node.url, "GET", `/admin/audit?${query}`, undefined, owner.accessToken)).body as Array<any>
  const expectAudited = (query: string, match: Record<string, unknown>) =>
    expect.poll(async () => (await auditOf(query)).some((e) => Object.entries(match).every(([k, v]) => JSON.stringify(e[k]) === JSON.stringify(v))), {
      timeout: 10_000,
      interval: 100
    }).toBe(true)

  it("refuses a member's workspace role escalations with 403 Forbidden, writes nothing, and audits each", async () => {
    const mallory = await member()
    const bob = await member()
    const own = await setRole(mallory.accessToken, mallory.userId, "admin")
    const other = await setRole(mallory.accessToken, bob.userId, "guest")
    const demoteOwner = await setRole(mallory.accessToken, owner.userId, "member")
    for (const answer of [own, other, demoteOwner]) {
      expect(answer.status).toBe(403)
      expect(answer.body._tag).toBe("Forbidden")
    }
    expect(own.body.message).toBe("only workspace owners and admins change roles")
    expect([await roleOf(mallory.userId), await roleOf(bob.userId), await roleOf(owner.userId)]).toEqual(["member", "member", "owner"])
    await expectAudited(`actor=${mallory.userId}&action=admin.role.denied`, { target: bob.userId })
    await expectAudited(`actor=${mallory.userId}&action=admin.role.denied`, { target: owner.userId })
  })

  it("keeps the rules for admins and owners: no self-raise, only an owner makes an owner, the last owner stays", async () => {
    const admin = await member()
    const target = await member()
    expect((await setRole(owner.accessToken, admin.userId, "admin")).body).toEqual({ userId: admin.userId, role: "admin", previous: "member" })
    expect((await setRole(admin.accessToken, admin.userId, "owner")).body.message).toBe("nobody raises their own role")
    expect((await setRole(admin.accessToken, target.userId, "owner")).body.message).toBe("only an owner makes an owner")
    expect((await setRole(admin.accessToken, owner.userId, "admin")).body.message).toBe("only an owner changes an owner's role")
    const last = await setRole(owner.accessToken, owner.userId, "admin")
    expect(last.status).toBe(403)
    expect(last.body.message).toContain("the last owner cannot be demoted")
    // An admin may change a member's role; an unknown account is 404.
    expect((await setRole(admin.accessToken, target.userId, "moderator")).status).toBe(200)
    expect((await setRole(admin.accessToken, "u_nobody", "member")).body).toEqual({ _tag: "AccountNotFound", userId: "u_nobody" })
    expect([await roleOf(admin.userId), await roleOf(target.userId), await roleOf(owner.userId)]).toEqual(["admin", "moderator", "owner"])
    await expectAudited(`actor=${owner.userId}&action=admin.role_changed`, { target: admin.userId, details: { from: "member", to: "admin" } })
  })

  it("applies a role change in the Channel entity: a new admin manages a public channel, a new guest may not join", async () => {
    const promoted = await member()
    const demoted = await member()
    const other = await member()
    const channel = (await call(node.url, "POST", "/channels", { name: "plaza" }, other.accessToken)).body
    const addAsAdmin = () => call(node.url, "POST", `/channels/${channel.id}/members`, { userId: demoted.userId, role: "member" }, promoted.accessToken)
    expect((await addAsAdmin()).body._tag).toBe("NotAMember")
    expect((await setRole(owner.accessToken, promoted.userId, "admin")).status).toBe(200)
    expect((await setRole(owner.accessToken, demoted.userId, "guest")).status).toBe(200)
    // The node that changed the roles dropped its cached entries; other nodes see the change within 2 s.
    await expect.poll(async () => (await addAsAdmin()).status, { timeout: 5000, interval: 100 }).toBe(200)
    const leave = await call(node.url, "POST", `/channels/${channel.id}/leave`, undefined, demoted.accessToken)
    expect(leave.status).toBe(200)
    const join = await call(node.url, "POST", `/channels/${channel.id}/join`, undefined, demoted.accessToken)
    expect(join.status).toBe(403)
    expect(join.body.message).toBe("guests join a channel only when a member adds them")
    expect((await call(node.url, "POST", "/channels", { name: "mine" }, demoted.accessToken)).body._tag).toBe("Forbidden")
    await expectAudited(`actor=${demoted.userId}&action=channel.join.denied`, { target: channel.id })
  })

  /** A private channel of the owner with one message, and the id of a channel that does not exist. */
  const privateChannel = async () => {
    const channel = (await call(node.url, "POST", "/channels", { name: "board", visibility: "private" }, owner.accessToken)).body
    await call(node.url, "POST", `/channels/${channel.id}/messages`, { clientMsgId: "s1", body: "secret" }, owner.accessToken)
    return { channelId: channel.id as string, missingId: `c_missing${unique()}` }
  }
  const counts = async (channelId: string) => ({
    messages: Number((await sql<{ n: string }>("SELECT count(*) AS n FROM plexi_messages WHERE channel_id = $1", [channelId]))[0]!.n),
    members: (await sql<{ user_id: string }>("SELECT user_id FROM plexi_channel_members WHERE channel_id = $1", [channelId])).map((r) => r.user_id)
  })
  /** `body` with the channel id replaced, to compare the answers for two channels. */
  const masked = (body: unknown, channelId: string) => JSON.parse(JSON.stringify(body).replaceAll(channelId, "<id>"))

  it("answers a non-member on REST and WebSocket for a private channel exactly as for a missing one, writing nothing", async () => {
    const { channelId, missingId } = await privateChannel()
    const mallory = await member()
    const before = await counts(channelId)
    const attempts: Array<[string, string, unknown]> = [
      ["POST", "/messages", { clientMsgId: "x", body: "let me in" }],
      ["GET", "/messages?afterSeq=0", undefined],
      ["POST", "/join", undefined],
      ["POST", "/leave", undefined],
      ["POST", "/members", { userId: mallory.userId, role: "admin" }]
    ]
    for (const [method, suffix, body] of attempts) {
      const secret = await call(node.url, method, `/channels/${channelId}${suffix}`, body, mallory.accessToken)
      const missing = await call(node.url, method, `/channels/${missingId}${suffix}`, body, mallory.accessToken)
      expect(secret.status, `${method} ${suffix}`).toBe(404)
      expect(masked(secret.body, channelId), `${method} ${suffix}`).toEqual(masked(missing.body, missingId))
      expect(secret.body._tag).toBe("ChannelNotFound")
    }
    // Locating: with the member's token, and with none.
    for (const token of [mallory.accessToken, undefined]) {
      const secret = await call(node.url, "GET", `/cluster/channels/${channelId}`, undefined, token)
      const missing = await call(node.url, "GET", `/cluster/channels/${missingId}`, undefined, token)
      expect(secret.status).toBe(404)
      expect(masked(secret.body, channelId)).toEqual(masked(missing.body, missingId))
    }
    expect((await call(node.url, "GET", `/cluster/channels/${channelId}`, undefined, owner.accessToken)).status).toBe(200)
    const ws = await WsClient.connect(node.wsUrl, mallory.accessToken)
    for (const frame of [{ type: "subscribe", lastSeq: 0 }, { type: "post", clientMsgId: "w1", body: "hi" }]) {
      const secret = await ws.request({ ...frame, channelId })
      const missing = await ws.request({ ...frame, channelId: missingId })
      expect(secret).toMatchObject({ type: "error", code: "channel_not_found" })
      const { ref: _a, ...secretFrame } = secret
      const { ref: _b, ...missingFrame } = missing
      expect(masked(secretFrame, channelId)).toEqual(masked(missingFrame, missingId))
    }
    ws.close()
    expect(await counts(channelId)).toEqual(before)
    for (const action of ["channel.post.denied", "channel.read.denied", "channel.join.denied", "channel.add_member.denied", "channel.locate.denied"]) {
      await expectAudited(`action=${action}&actor=${mallory.userId}`, { target: channelId })
    }
  })

  it("refuses the same through the typed RPC client, in the Channel entity, and keeps QueryAudit for owners and admins", async () => {
    const { channelId: raw, missingId: rawMissing } = await privateChannel()
    const channelId = ChannelId.make(raw)
    const missingId = ChannelId.make(rawMissing)
    const mallory = await member()
    const before = await counts(raw)
    const attempts = (id: ChannelId) =>
      Effect.gen(function*() {
        const c = yield* PlexiClient
        return yield* Effect.all([
          c.PostMessage({ channelId: id, clientMsgId: "r1", body: "let me in" }),
          c.History({ channelId: id }),
          c.JoinChannel({ channelId: id }),
          c.LeaveChannel({ channelId: id }),
          c.AddMember({ channelId: id, userId: UserId.make(mallory.userId), role: "owner" }),
          c.Subscribe({ channelId: id, afterSeq: 0 }).pipe(Stream.take(1), Stream.runDrain)
        ].map((e) => Effect.either(e as Effect.Effect<unknown, { readonly _tag: string }>)))
      }).pipe(Effect.provide(PlexiClient.layer({ url: node.url, token: mallory.accessToken })))
    const [secret, missing] = await Effect.runPromise(Effect.zip(attempts(channelId), attempts(missingId)))
    secret.forEach((outcome, i) => {
      expect(Either.isLeft(outcome) && outcome.left).toEqual(new ChannelNotFound({ channelId }))
      expect(Either.isLeft(missing[i]!) && missing[i]!.left).toEqual(new ChannelNotFound({ channelId: missingId }))
    })
    expect(await counts(raw)).toEqual(before)

    const queryAs = (token: string) =>
      Effect.runPromise(Effect.flatMap(PlexiClient, (c) => c.QueryAudit({ actor: mallory.userId, action: "channel.post.denied" })).pipe(
        Effect.provide(PlexiClient.layer({ url: node.url, token })),
        Effect.either
      ))
    const refused = await queryAs(mallory.accessToken)
    expect(Either.isLeft(refused) && refused.left._tag).toBe("Forbidden")
    await expect.poll(async () => {
      const entries = await queryAs(owner.accessToken)
      return Either.isRight(entries) ? entries.right.map((e) => e.target) : []
    }, { timeout: 10_000, interval: 100 }).toContain(raw)
    await expectAudited(`actor=${mallory.userId}&action=admin.audit.denied`, { actor: mallory.userId })
  })

  it("audits sign-ins and failures with the address, and refuses the audit log to members over REST", async () => {
    const username = `login-${unique()}`
    const account = await authClient(node.url).signUp(username, password)
    await authClient(node.url).signIn(username, password)
    expect((await authClient(node.url).login({ username, password: "wrong password here" })).status).toBe(401)
    expect((await authClient(node.url).login({ username: `nobody-${unique()}`, password })).status).toBe(401)
    await expectAudited(`actor=${account.userId}&action=auth.register`, { target: account.userId, ip: "127.0.0.1" })
    await expectAudited(`actor=${account.userId}&action=auth.login`, { ip: "127.0.0.1" })
    await expectAudited("action=auth.login_failed", { target: account.userId, details: { username } })
    const denied = await call(node.url, "GET", "/admin/audit", undefined, account.accessToken)
    expect(denied.status).toBe(403)
    expect(denied.body._tag).toBe("Forbidden")
    const bad = await call(node.url, "GET", "/admin/audit?limit=5000", undefined, owner.accessToken)
    expect(bad.status).toBe(400)
  })
})
