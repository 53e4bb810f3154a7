/**
 * Revocation across a cluster of two real node processes on one Postgres
 * database: a session ended on node A (sign-out, ending it from another
 * session, a reused refresh token, a password change, an admin reset, an
 * account disable) closes its
 * WebSockets on node B with 4003 within 1 s, and B refuses its access token
 * on REST, typed RPC, the WebSocket upgrade and the `auth` frame. Account
 * administration: only an owner or admin may disable, enable or reset, and a
 * refused call changes no row. Every wait is on a condition; each test signs
 * up its own users (the suite's first account is the owner).
 */
import { beforeAll, describe, expect, it } from "vitest"
import { authClient, type TokenPair } from "../fixtures/AuthClient.ts"
import { WsClient } from "../fixtures/Clients.ts"
import { query } from "../fixtures/ClusterHelpers.ts"
import { clusterForSuite } from "../fixtures/ClusterSuite.ts"
import { admin, closedAfter, expectAccepted, expectRefused } from "../fixtures/RevocationChecks.ts"

const password = "a long and unusual passphrase"
const revokedMessage = "session revoked: sign in again"

const summary = (what: string, samples: ReadonlyArray<number>) => {
  const sorted = [...samples].sort((a, b) => a - b)
  console.log(`${what}: ${sorted.map((ms) => ms.toFixed(0)).join(", ")} ms (max ${sorted.at(-1)!.toFixed(0)} ms)`)
}

describe("revocation across two nodes", () => {
  const cluster = clusterForSuite({ prefix: "rv", size: 2 })
  const a = () => cluster.nodes[0]!
  const b = () => cluster.nodes[1]!
  let owner: TokenPair

  beforeAll(async () => {
    owner = await authClient(a().url).signUp("rv-owner", password)
    expect(owner.role).toBe("owner")
  })

  it("a session ended on node A has its sockets on node B closed with 4003 within 1 s, and every door of B refuses its token", async () => {
    const authA = authClient(a().url)
    const first = await authA.signUp("rv-alice", password)
    const latencies: Array<number> = []
    for (let i = 0; i < 5; i++) {
      const victim = await authA.signIn("rv-alice", password, `device ${i}`)
      await expectAccepted(b(), victim.accessToken)
      const byQuery = await WsClient.connect(b().wsUrl, victim.accessToken)
      const byFrame = await WsClient.connect(b().wsUrl)
      expect(await byFrame.request({ type: "auth", token: victim.accessToken })).toMatchObject({ type: "authenticated" })
      // Alternately signed out by the session itself and ended from another session.
      latencies.push(await closedAfter([byQuery, byFrame], "session_revoked", async () => {
        const answer = i % 2 === 0 ? await authA.logout(victim.accessToken) : await authA.revoke(first.accessToken, victim.sessionId)
        expect(answer).toMatchObject({ status: 200, body: { revoked: 1 } })
      }))
      await expectRefused(b(), victim.accessToken, revokedMessage)
      await expectRefused(a(), victim.accessToken, revokedMessage)
      expect((await authA.refresh(victim.refreshToken)).body).toMatchObject({ _tag: "InvalidRefreshToken", reason: "revoked" })
    }
    summary("revocation on A to close on B", latencies)
    // The session that did the revoking is untouched.
    await expectAccepted(b(), first.accessToken)
  }, 90_000)

  it("a reused refresh token on node A ends its session: the socket of the session's newest access token on node B closes with 4003", async () => {
    const authA = authClient(a().url)
    const leaked = await authA.signUp("rv-gina", password)
    const rotated = (await authA.refresh(leaked.refreshToken)).body as TokenPair
    const ws = await WsClient.connect(b().wsUrl, rotated.accessToken)
    const latency = await closedAfter([ws], "session_revoked", async () => {
      expect((await authA.refresh(leaked.refreshToken)).body).toMatchObject({ _tag: "InvalidRefreshToken", reason: "reused" })
    })
    summary("refresh-token reuse on A to close on B", [latency])
    await expectRefused(b(), rotated.accessToken, revokedMessage)
  }, 60_000)

  it("a password change on node B closes the other sessions' sockets on both nodes and keeps the current one", async () => {
    const authA = authClient(a().url)
    const current = await authA.signUp("rv-bob", password)
    const other1 = await authA.signIn("rv-bob", password, "phone")
    const other2 = await authA.signIn("rv-bob", password, "tablet")
    const kept = await WsClient.connect(a().wsUrl, current.accessToken)
    const onA = await WsClient.connect(a().wsUrl, other1.accessToken)
    const onB = await WsClient.connect(b().wsUrl, other2.accessToken)
    const latency = await closedAfter([onA, onB], "session_revoked", async () => {
      const answer = await authClient(b().url).changePassword(current.accessToken, password, "another long passphrase here")
      expect(answer).toMatchObject({ status: 200, body: { revoked: 2 } })
    })
    summary("password change on B to close on A and B", [latency])
    expect(await kept.request({ type: "ping" })).toMatchObject({ type: "pong" })
    expect(kept.closeCode).toBeUndefined()
    await expectAccepted(a(), current.accessToken)
    await expectRefused(a(), other1.accessToken, revokedMessage)
    await expectRefused(b(), other2.accessToken, revokedMessage)
    kept.close()
  }, 60_000)

  it("disabling an account closes all its sockets everywhere and refuses sign-in and refresh; enabling lets it sign in again", async () => {
    const authA = authClient(a().url)
    const carol = await authA.signUp("rv-carol", password)
    const second = await authA.signIn("rv-carol", password, "laptop")
    const sockets = [await WsClient.connect(a().wsUrl, carol.accessToken), await WsClient.connect(b().wsUrl, second.accessToken)]
    const latency = await closedAfter(sockets, "account_disabled", async () => {
      const answer = await admin(a(), owner.accessToken).disable(carol.userId)
      expect(answer).toMatchObject({ status: 200, body: { userId: carol.userId, disabled: true, revoked: 2 } })
    })
    summary("disable on A to close on A and B", [latency])
    await expectRefused(b(), second.accessToken, "account disabled")
    const login = await authClient(b().url).login({ username: "rv-carol", password })
    expect(login).toMatchObject({ status: 403, body: { _tag: "AccountDisabled" } })
    expect((await authA.refresh(second.refreshToken))).toMatchObject({ status: 403, body: { _tag: "AccountDisabled" } })
    // A wrong password still answers InvalidCredentials: being disabled is told only to the password's holder.
    expect((await authA.login({ username: "rv-carol", password: "not the password at all" })).body._tag).toBe("InvalidCredentials")
    // Disabling again changes nothing.
    expect((await admin(b(), owner.accessToken).disable(carol.userId)).body).toEqual({ userId: carol.userId, disabled: true, revoked: 0 })

    expect((await admin(b(), owner.accessToken).enable(carol.userId)).body).toEqual({ userId: carol.userId, disabled: false, revoked: 0 })
    // Enabled on B: node A lets the account in again at once (sign-in reads the store), and its new tokens work on both nodes.
    const back = await authA.signIn("rv-carol", password)
    await expectAccepted(a(), back.accessToken)
    await expectAccepted(b(), back.accessToken)
    // Its old sessions stay ended.
    await expectRefused(b(), second.accessToken, revokedMessage)
  }, 60_000)

  it("a member trying to disable, enable or reset another account gets Forbidden and no row changes", async () => {
    const authA = authClient(a().url)
    const dave = await authA.signUp("rv-dave", password)
    const erin = await authA.signUp("rv-erin", password)
    const before = await query(cluster.url, "SELECT user_id, password_hash, disabled_at, role FROM plexi_accounts ORDER BY user_id")
    const sessionsBefore = await query(cluster.url, "SELECT id, revoked_at FROM plexi_sessions ORDER BY id")
    const ws = await WsClient.connect(b().wsUrl, erin.accessToken)
    const as = admin(a(), dave.accessToken)
    for (const answer of [await as.disable(erin.userId), await as.enable(erin.userId), await as.resetPassword(erin.userId, "a brand new passphrase")]) {
      expect(answer).toMatchObject({ status: 403, body: { _tag: "Forbidden", message: "only a workspace owner or admin may manage accounts" } })
    }
    // An unknown user id answers a member the same (no probing), the owner 404.
    expect((await as.disable("u_doesnotexist0000")).body._tag).toBe("Forbidden")
    expect(await admin(a(), owner.accessToken).disable("u_doesnotexist0000")).toMatchObject({
      status: 404,
      body: { _tag: "AccountNotFound", userId: "u_doesnotexist0000" }
    })
    // Nobody disables or resets themselves through these; the owner is the last one, so it cannot be disabled either.
    expect((await admin(a(), owner.accessToken).disable(owner.userId)).body._tag).toBe("Forbidden")
    expect((await admin(a(), owner.accessToken).resetPassword(owner.userId, "a brand new passphrase")).body._tag).toBe("Forbidden")
    // A weak password is refused before anything is written.
    expect((await admin(a(), owner.accessToken).resetPassword(erin.userId, "password")).body).toMatchObject({ _tag: "WeakPassword" })
    expect(await query(cluster.url, "SELECT user_id, password_hash, disabled_at, role FROM plexi_accounts ORDER BY user_id")).toEqual(before)
    expect(await query(cluster.url, "SELECT id, revoked_at FROM plexi_sessions ORDER BY id")).toEqual(sessionsBefore)
    expect(await ws.request({ type: "ping" })).toMatchObject({ type: "pong" })
    ws.close()
  }, 60_000)

  it("an admin password reset ends every session of the account on every node; the new password signs in, the old one does not", async () => {
    const authA = authClient(a().url)
    const frank = await authA.signUp("rv-frank", password)
    const ws = await WsClient.connect(b().wsUrl, frank.accessToken)
    const latency = await closedAfter([ws], "session_revoked", async () => {
      const answer = await admin(a(), owner.accessToken).resetPassword(frank.userId, "the admin chose this passphrase")
      expect(answer).toMatchObject({ status: 200, body: { revoked: 1 } })
    })
    summary("admin reset on A to close on B", [latency])
    await expectRefused(b(), frank.accessToken, revokedMessage)
    expect((await authA.login({ username: "rv-frank", password })).body._tag).toBe("InvalidCredentials")
    await authClient(b().url).signIn("rv-frank", "the admin chose this passphrase")
  }, 60_000)
})
