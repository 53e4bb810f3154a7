/**
 * The account operations over the typed RPC client (`plexichat/client`,
 * domain/AuthRpcs.ts) against two real node processes on one real Postgres:
 * the same flows and typed errors as the REST paths (test/e2e/Accounts.test.ts),
 * rows checked in SQL after refusals.
 */
import { describe, expect, it } from "vitest"
import { call } from "../fixtures/AuthClient.ts"
import { postgresPairForSuite } from "../fixtures/PostgresPair.ts"
import { failure, ok, rpc } from "../fixtures/RpcCalls.ts"

const password = "a long and unusual passphrase"

describe("account operations as typed RPCs", () => {
  const pair = postgresPairForSuite("rpc-auth")
  const count = pair.count

  it("registers, signs in, refreshes and manages sessions without REST, across nodes", async () => {
    const registered = await ok(rpc(pair.a(), (c) => c.Register({ username: "rpc-alice", password, deviceName: "cli" })))
    expect(registered).toMatchObject({ tokenType: "Bearer", username: "rpc-alice" })

    const login = await ok(rpc(pair.b(), (c) => c.Login({ username: "RPC-ALICE", password, deviceName: "phone" })))
    expect(login.userId).toBe(registered.userId)

    // The access token of one node works on the other's chat RPCs.
    const me = await ok(rpc(pair.a(), (c) => c.Me({}), login.accessToken))
    expect(me.id).toBe(registered.userId)

    const sessions = await ok(rpc(pair.a(), (c) => c.ListSessions({}), login.accessToken))
    expect(sessions.map((s) => [s.deviceName, s.current])).toEqual([["phone", true], ["cli", false]])

    const refreshed = await ok(rpc(pair.b(), (c) => c.Refresh({ refreshToken: login.refreshToken })))
    expect(refreshed.sessionId).toBe(login.sessionId)
    const reused = await failure(rpc(pair.a(), (c) => c.Refresh({ refreshToken: login.refreshToken })))
    expect(reused).toMatchObject({ _tag: "InvalidRefreshToken", reason: "reused" })

    const revoked = await ok(rpc(pair.a(), (c) => c.RevokeSession({ sessionId: registered.sessionId }), refreshed.accessToken))
    expect(revoked).toEqual({ revoked: 1 })
    const gone = await failure(rpc(pair.b(), (c) => c.Refresh({ refreshToken: registered.refreshToken })))
    expect(gone).toMatchObject({ _tag: "InvalidRefreshToken", reason: "revoked" })
    const unknown = await failure(rpc(pair.a(), (c) => c.RevokeSession({ sessionId: "s_nope" as never }), refreshed.accessToken))
    expect(unknown._tag).toBe("SessionNotFound")

    // The reuse above ended the login's session: two fresh ones, one of which changes the password.
    const second = await ok(rpc(pair.a(), (c) => c.Login({ username: "rpc-alice", password })))
    const third = await ok(rpc(pair.b(), (c) => c.Login({ username: "rpc-alice", password })))
    const changed = await ok(rpc(
      pair.a(),
      (c) => c.ChangePassword({ currentPassword: password, newPassword: "another long passphrase" }),
      second.accessToken
    ))
    expect(changed.revoked).toBe(1)
    expect(await failure(rpc(pair.b(), (c) => c.Refresh({ refreshToken: third.refreshToken })))).toMatchObject({ reason: "revoked" })
    expect(await ok(rpc(pair.b(), (c) => c.Logout({}), second.accessToken))).toEqual({ revoked: 1 })
  })

  it("answers the same typed errors as REST, and writes nothing for them", async () => {
    await ok(rpc(pair.a(), (c) => c.Register({ username: "rpc-bob", password })))
    const before = [await count("plexi_accounts"), await count("plexi_sessions")]
    expect(await failure(rpc(pair.a(), (c) => c.Login({ username: "rpc-bob", password: "wrong password here" })))).toMatchObject({
      _tag: "InvalidCredentials"
    })
    expect(await failure(rpc(pair.a(), (c) => c.Login({ username: "nobody-here", password })))).toMatchObject({ _tag: "InvalidCredentials" })
    expect(await failure(rpc(pair.b(), (c) => c.Register({ username: "RPC-BOB", password })))).toMatchObject({ _tag: "UsernameTaken" })
    expect(await failure(rpc(pair.b(), (c) => c.Register({ username: "rpc-carol", password: "password123" })))).toMatchObject({
      _tag: "WeakPassword",
      reason: "common"
    })
    expect(await failure(rpc(pair.a(), (c) => c.ListSessions({})))).toMatchObject({ _tag: "Unauthorized" })
    expect(await failure(rpc(pair.a(), (c) => c.Logout({}), "not-a-token"))).toMatchObject({ _tag: "Unauthorized" })
    expect(await failure(rpc(pair.a(), (c) => c.OidcStart({ provider: "none" })))).toEqual(
      expect.objectContaining({ _tag: "OidcProviderNotFound", provider: "none" })
    )
    expect(await ok(rpc(pair.a(), (c) => c.OidcProviders({})))).toEqual([])
    expect([await count("plexi_accounts"), await count("plexi_sessions")]).toEqual(before)
  })

  it("refuses hostile payloads at the edge with 400 before any handler runs", async () => {
    const before = await count("plexi_accounts")
    for (const payload of [{ username: 42, password }, { username: "ok-name", password: { $gt: "" } }, { username: "ok-name", password: "p".repeat(5000) }]) {
      const res = await fetch(`${pair.a().url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/ndjson" },
        body: `${JSON.stringify({ _tag: "Request", id: "1", tag: "Register", payload, headers: [] })}\n`
      })
      expect(res.status).toBe(400)
      expect(res.headers.get("cache-control")).toBe("no-store")
      expect((await res.json())._tag).toBe("InvalidRequest")
    }
    expect(await count("plexi_accounts")).toBe(before)
    const signIn = await fetch(`${pair.a().url}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/ndjson" },
      body: `${JSON.stringify({ _tag: "Request", id: "2", tag: "Login", payload: { username: "rpc-bob", password }, headers: [] })}\n`
    })
    expect(signIn.status).toBe(200)
    expect(signIn.headers.get("cache-control")).toBe("no-store")
    expect(await signIn.text()).toContain("accessToken")
    // REST and RPC agree on the accounts: one registered over RPC signs in over REST.
    expect((await call(pair.a().url, "POST", "/auth/login", { username: "rpc-bob", password })).status).toBe(200)
  })
})
