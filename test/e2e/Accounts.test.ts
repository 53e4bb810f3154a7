/**
 * Accounts and sessions end to end: two real node processes on one real
 * Postgres, real WebSocket clients, REST over fetch and the typed RPC client.
 * Tokens issued by one node are used on the other, which verifies them
 * with its own copy of the signing keys.
 */
import { Effect } from "effect"
import { PlexiClient } from "plexichat/client"
import type pg from "pg"
import { beforeAll, describe, expect, it } from "vitest"
import { type Answer, authClient, call, type TokenPair } from "../fixtures/AuthClient.ts"
import { WsClient } from "../fixtures/Clients.ts"
import type { NodeProcess } from "../fixtures/NodeProcess.ts"
import { postgresPairForSuite } from "../fixtures/PostgresPair.ts"

const password = "a long and unusual passphrase"

const expectNoStore = (answer: Answer) => expect(answer.headers.get("cache-control")).toBe("no-store")

describe("accounts and sessions on two nodes", () => {
  const nodes = postgresPairForSuite("auth")
  let a: NodeProcess
  let b: NodeProcess
  let sql: pg.Client
  const count = nodes.count
  const counts = async () => [await count("plexi_accounts"), await count("plexi_sessions"), await count("plexi_refresh_tokens")]

  beforeAll(() => {
    a = nodes.a()
    b = nodes.b()
    sql = nodes.sql()
  })

  it("makes exactly one owner of the first accounts registered at once, and members of the others", async () => {
    const auth = authClient(a.url)
    const answers = await Promise.all(["owen", "mia", "max", "moe"].map((username) => auth.register({ username, password })))
    for (const answer of answers) {
      expect(answer.status).toBe(201)
      expectNoStore(answer)
    }
    expect(answers.map((r) => r.body.role).sort()).toEqual(["member", "member", "member", "owner"])
    const later = await authClient(b.url).signUp("latecomer", password)
    expect(later.role).toBe("member")
    const roles = await sql.query("SELECT role, count(*)::int AS n FROM plexi_accounts GROUP BY role ORDER BY role")
    expect(roles.rows).toEqual([{ role: "member", n: 4 }, { role: "owner", n: 1 }])
  }, 60_000)

  it("signs in on one node and uses the access token on the other node's REST, WebSocket and typed RPC", async () => {
    const alice = await authClient(a.url).signUp("alice", password)
    const signedIn = await authClient(a.url).signIn("ALICE", password, "phone")
    expect(signedIn.userId).toBe(alice.userId)
    expect(signedIn.sessionId).not.toBe(alice.sessionId)

    const me = await call(b.url, "GET", "/me", undefined, signedIn.accessToken)
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ id: alice.userId, displayName: "alice" })

    const byQuery = await WsClient.connect(b.wsUrl, signedIn.accessToken)
    const hello = await byQuery.waitFor((f) => f.type === "hello")
    expect(hello.userId).toBe(alice.userId)
    byQuery.close()

    const byFrame = await WsClient.connect(a.wsUrl)
    const authenticated = await byFrame.request({ type: "auth", token: signedIn.accessToken })
    expect(authenticated).toMatchObject({ type: "authenticated", userId: alice.userId, expiresAt: signedIn.accessTokenExpiresAt })
    const channel = await call(a.url, "POST", "/channels", { name: "alice-room" }, signedIn.accessToken)
    const subscribed = await byFrame.request({ type: "subscribe", channelId: channel.body.id })
    expect(subscribed.type).toBe("subscribed")
    byFrame.close()

    const rpcMe = await Effect.runPromise(
      Effect.flatMap(PlexiClient, (client) => client.Me({})).pipe(
        Effect.provide(PlexiClient.layer({ url: b.url, token: signedIn.accessToken }))
      )
    )
    expect(rpcMe.id).toBe(alice.userId)
  }, 60_000)

  it("rotates the refresh token; the old one presented again revokes the session, so its successor stops too", async () => {
    const auth = authClient(b.url)
    const first = await authClient(a.url).signUp("rotor", password)
    const refreshed = await auth.refresh(first.refreshToken)
    expect(refreshed.status).toBe(200)
    expectNoStore(refreshed)
    const second = refreshed.body as TokenPair
    expect(second.sessionId).toBe(first.sessionId)
    expect(second.refreshToken).not.toBe(first.refreshToken)
    expect((await call(a.url, "GET", "/me", undefined, second.accessToken)).status).toBe(200)

    const reused = await auth.refresh(first.refreshToken)
    expect(reused.status).toBe(401)
    expect(reused.body).toMatchObject({ _tag: "InvalidRefreshToken", reason: "reused" })
    const successor = await auth.refresh(second.refreshToken)
    expect(successor.status).toBe(401)
    expect(successor.body).toMatchObject({ _tag: "InvalidRefreshToken", reason: "revoked" })
    const stored = await sql.query("SELECT revoked_reason FROM plexi_sessions WHERE id = $1", [first.sessionId])
    expect(stored.rows).toEqual([{ revoked_reason: "refresh_token_reused" }])
  }, 60_000)

  it("records the peer address the node saw, not an address header the client sent", async () => {
    await authClient(a.url).signUp("spoofer", password)
    const res = await fetch(`${a.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-plexi-peer-address": "6.6.6.6", "x-forwarded-for": "7.7.7.7" },
      body: JSON.stringify({ username: "spoofer", password })
    })
    const pair = (await res.json()) as TokenPair
    const rows = await sql.query("SELECT ip FROM plexi_sessions WHERE id = $1", [pair.sessionId])
    expect(rows.rows).toEqual([{ ip: "127.0.0.1" }])
  })

  it("stores refresh tokens only as SHA-256 digests", async () => {
    const pair = await authClient(a.url).signUp("hashed", password)
    const rows = await sql.query("SELECT token_hash FROM plexi_refresh_tokens WHERE session_id = $1", [pair.sessionId])
    expect(rows.rows).toHaveLength(1)
    expect(rows.rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/)
    const anywhere = await sql.query("SELECT count(*)::int AS n FROM plexi_refresh_tokens WHERE token_hash = $1", [pair.refreshToken])
    expect(anywhere.rows[0].n).toBe(0)
  })

  it("lists the caller's sessions with their device records and revokes one, whose refresh token then stops working", async () => {
    const auth = authClient(a.url)
    await auth.signUp("dora", password)
    const laptop = await auth.signIn("dora", password, "laptop")
    const phone = await authClient(b.url).signIn("dora", password, "phone")
    const listed = await auth.sessions(laptop.accessToken)
    expect(listed.status).toBe(200)
    expectNoStore(listed)
    const byId = new Map((listed.body as Array<any>).map((s) => [s.id, s]))
    expect(byId.size).toBe(3)
    expect(byId.get(laptop.sessionId)).toMatchObject({ deviceName: "laptop", userAgent: "plexi-test/1.0", ip: "127.0.0.1", current: true })
    expect(byId.get(phone.sessionId)).toMatchObject({ deviceName: "phone", current: false })
    const record = byId.get(phone.sessionId)
    expect(record.lastSeenAt).toBeGreaterThanOrEqual(record.createdAt)

    const revoked = await auth.revoke(laptop.accessToken, phone.sessionId)
    expect(revoked).toMatchObject({ status: 200, body: { revoked: 1 } })
    expect((await auth.refresh(phone.refreshToken)).body).toMatchObject({ _tag: "InvalidRefreshToken", reason: "revoked" })
    expect((await auth.revoke(laptop.accessToken, phone.sessionId)).body).toEqual({ _tag: "SessionNotFound", sessionId: phone.sessionId })
    const left = (await auth.sessions(laptop.accessToken)).body as Array<{ id: string }>
    expect(left.map((s) => s.id)).not.toContain(phone.sessionId)
    expect((await auth.refresh(laptop.refreshToken)).status).toBe(200)
  }, 60_000)

  it("does not let a user see or revoke another user's session", async () => {
    const auth = authClient(a.url)
    const eve = await auth.signUp("eve", password)
    const victim = await auth.signUp("victim", password)
    const attempt = await auth.revoke(eve.accessToken, victim.sessionId)
    expect(attempt.status).toBe(404)
    expect(attempt.body).toEqual({ _tag: "SessionNotFound", sessionId: victim.sessionId })
    expect((await auth.sessions(eve.accessToken)).body.map((s: { id: string }) => s.id)).toEqual([eve.sessionId])
    expect((await auth.refresh(victim.refreshToken)).status).toBe(200)
  }, 60_000)

  it("revokes every session with DELETE /auth/sessions and the current one with logout", async () => {
    const auth = authClient(a.url)
    const one = await auth.signUp("leaver", password)
    const two = await auth.signIn("leaver", password)
    expect((await auth.revokeAll(two.accessToken)).body).toEqual({ revoked: 2 })
    for (const pair of [one, two]) expect((await auth.refresh(pair.refreshToken)).status).toBe(401)

    const three = await auth.signIn("leaver", password)
    const out = await auth.logout(three.accessToken)
    expect(out).toMatchObject({ status: 200, body: { revoked: 1 } })
    expectNoStore(out)
    expect((await auth.refresh(three.refreshToken)).body).toMatchObject({ reason: "revoked" })
  }, 60_000)

  it("changes the password, revoking the other sessions, and refuses a wrong current or a weak new password", async () => {
    const auth = authClient(a.url)
    const kept = await auth.signUp("changer", password)
    const other = await auth.signIn("changer", password)
    const wrong = await auth.changePassword(kept.accessToken, "not the password at all", "another fine passphrase")
    expect(wrong).toMatchObject({ status: 401, body: { _tag: "InvalidCredentials" } })
    const weak = await auth.changePassword(kept.accessToken, password, "password123")
    expect(weak).toMatchObject({ status: 400, body: { _tag: "WeakPassword", reason: "common" } })

    const changed = await auth.changePassword(kept.accessToken, password, "another fine passphrase")
    expect(changed).toMatchObject({ status: 200, body: { revoked: 1 } })
    expect((await auth.refresh(other.refreshToken)).body).toMatchObject({ reason: "revoked" })
    expect((await auth.refresh(kept.refreshToken)).status).toBe(200)
    expect((await auth.login({ username: "changer", password })).status).toBe(401)
    expect((await auth.login({ username: "changer", password: "another fine passphrase" })).status).toBe(200)
  }, 60_000)

  it("answers a wrong password and an unknown user with the same 401 body", async () => {
    const auth = authClient(b.url)
    await authClient(a.url).signUp("carol", password)
    const wrongPassword = await auth.login({ username: "carol", password: "not carol's password" })
    const unknownUser = await auth.login({ username: "nobody-here", password })
    expect(wrongPassword.status).toBe(401)
    expect(unknownUser.status).toBe(401)
    expect(unknownUser.body).toEqual(wrongPassword.body)
    expect(wrongPassword.body).toEqual({ _tag: "InvalidCredentials", message: "wrong username or password" })
    expectNoStore(wrongPassword)
  }, 60_000)

  it("refuses weak passwords and taken usernames (in any case) with typed errors, writing nothing", async () => {
    const auth = authClient(a.url)
    await auth.signUp("Taken.Name", password)
    const before = await count("plexi_accounts")
    const cases: Array<[unknown, number, Record<string, unknown>]> = [
      [{ username: "shorty", password: "short" }, 400, { _tag: "WeakPassword", reason: "too_short" }],
      [{ username: "longer", password: "x".repeat(300) + "y" }, 400, { _tag: "WeakPassword", reason: "too_long" }],
      [{ username: "commoner", password: "qwertyuiop" }, 400, { _tag: "WeakPassword", reason: "common" }],
      [{ username: "decorated", password: "Password2024!" }, 400, { _tag: "WeakPassword", reason: "common" }],
      [{ username: "selfnamed1", password: "SELFNAMED1" }, 400, { _tag: "WeakPassword", reason: "matches_username" }],
      [{ username: "TAKEN.name", password }, 409, { _tag: "UsernameTaken" }]
    ]
    for (const [body, status, error] of cases) {
      const answer = await auth.register(body)
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(status)
      expect(answer.body).toMatchObject(error)
    }
    expect(await count("plexi_accounts")).toBe(before)
  }, 60_000)

  it("refuses hostile payload types and sizes with 400 before any work, writing nothing", async () => {
    const auth = authClient(b.url)
    const before = await counts()
    const hostile: Array<[string, unknown]> = [
      ["/auth/register", { username: 42, password }],
      ["/auth/register", { username: ["alice"], password }],
      ["/auth/register", { username: "ok-name", password: { $gt: "" } }],
      ["/auth/register", { username: "ok-name", password: "p".repeat(5000) }],
      ["/auth/register", { username: "a".repeat(100), password }],
      ["/auth/register", { username: "bad name!", password }],
      ["/auth/register", { username: "ok-name", password, email: "not an email" }],
      ["/auth/register", { username: "ok-name", password, deviceName: "d".repeat(65) }],
      ["/auth/register", { username: "ok-name", password, deviceName: "nul\u0000" }],
      ["/auth/register", { password }],
      ["/auth/register", "[]"],
      ["/auth/register", "null"],
      ["/auth/login", { username: null, password }],
      ["/auth/login", { username: "u".repeat(65), password }],
      ["/auth/login", { username: "alice", password: 12345678901 }],
      ["/auth/refresh", { refreshToken: 7 }],
      ["/auth/refresh", { refreshToken: "r".repeat(300) }],
      ["/auth/refresh", {}]
    ]
    for (const [path, body] of hostile) {
      const answer = await call(b.url, "POST", path, body)
      expect(answer.status, `${path} ${JSON.stringify(body).slice(0, 80)}`).toBe(400)
      expectNoStore(answer)
      expect(answer.body._tag).toBe("HttpApiDecodeError")
      expect(JSON.stringify(answer.body).length).toBeLessThan(4000)
    }
    expect((await auth.refresh("not-a-token-we-issued")).body).toMatchObject({ _tag: "InvalidRefreshToken", reason: "unknown" })
    expect(await counts()).toEqual(before)
  }, 60_000)

  it("refuses forged, tampered and refresh tokens on REST, the WebSocket upgrade and the auth frame", async () => {
    const pair = await authClient(a.url).signUp("forgery-target", password)
    const [header, payload, signature] = pair.accessToken.split(".")
    const otherSub = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), sub: "admin" }))
      .toString("base64url")
    const noneAlg = `${Buffer.from(JSON.stringify({ alg: "none", kid: "test-1", typ: "at+jwt" })).toString("base64url")}.${payload}.`
    const forged = [
      `${header}.${otherSub}.${signature}`,
      noneAlg,
      `${header}.${payload}.${signature!.slice(0, -2)}AA`,
      pair.refreshToken
    ]
    for (const token of forged) {
      expect((await call(b.url, "GET", "/me", undefined, token)).status).toBe(401)
      await expect(WsClient.connect(b.wsUrl, token)).rejects.toThrow(/401/)
      const socket = await WsClient.connect(a.wsUrl)
      const answer = await socket.request({ type: "auth", token })
      expect(answer).toMatchObject({ type: "error", code: "unauthorized" })
      socket.close()
    }
  }, 60_000)

  it("keeps development tokens working beside access tokens, but not for managing sessions", async () => {
    const res = await fetch(`${a.url}/api/v1/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId: "dev-user" })
    })
    const { token } = (await res.json()) as { token: string }
    expect((await call(b.url, "GET", "/me", undefined, token)).body).toMatchObject({ id: "dev-user" })
    const auth = authClient(b.url)
    for (const answer of [await auth.logout(token), await auth.sessions(token), await auth.revokeAll(token)]) {
      expect(answer.status).toBe(401)
      expectNoStore(answer)
      expect(answer.body).toEqual({ _tag: "Unauthorized", message: "this operation needs an access token from POST /api/v1/auth/login" })
    }
  })
})
