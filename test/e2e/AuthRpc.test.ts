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

  /** A raw NDJSON `POST` of `messages` to `path`. */
  const rawRpc = (path: string, ...messages: ReadonlyArray<Record<string, unknown>>) =>
    fetch(`${pair.a().url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/ndjson" },
      body: messages.map((m) => `${JSON.stringify(m)}\n`).join("")
    })
  const request = (id: string, tag: string, payload: unknown, headers: ReadonlyArray<[string, string]> = []) => ({
    _tag: "Request",
    id,
    tag,
    payload,
    headers
  })

  it("refuses hostile payloads at the edge with 400 before any handler runs", async () => {
    const before = await count("plexi_accounts")
    const hostile = [
      request("1", "Register", { username: 42, password }),
      request("1", "Register", { username: "ok-name", password: { $gt: "" } }),
      request("1", "Register", { username: "ok-name", password: "p".repeat(5000) }),
      // The edge's own header, which would set the session's recorded address.
      request("1", "Register", { username: "ok-name", password }, [["X-Plexi-Peer-Address", "203.0.113.7"]])
    ]
    for (const message of hostile) {
      const res = await rawRpc("/rpc", message)
      expect(res.status).toBe(400)
      expect(res.headers.get("cache-control")).toBe("no-store")
      expect((await res.json())._tag).toBe("InvalidRequest")
    }
    const flood = await rawRpc("/rpc", ...Array.from({ length: 65 }, (_, i) => request(String(i + 1), "OidcProviders", {})))
    expect(flood.status).toBe(400)
    expect(await count("plexi_accounts")).toBe(before)
  })

  it("answers tokens with no-store, on /rpc exactly: case and slash variants of a path are 404", async () => {
    await ok(rpc(pair.a(), (c) => c.Register({ username: "rpc-dora", password })))
    const signIn = await rawRpc("/rpc", request("2", "Login", { username: "rpc-dora", password }))
    expect(signIn.status).toBe(200)
    expect(signIn.headers.get("cache-control")).toBe("no-store")
    expect(await signIn.text()).toContain("accessToken")
    for (const path of ["/RPC", "/rpc/", "//rpc"]) {
      const res = await rawRpc(path, request("3", "Login", { username: "rpc-dora", password }))
      expect(res.status, path).toBe(404)
      expect(await res.text(), path).not.toContain("accessToken")
    }
    for (const path of ["/API/v1/auth/login", "/api/v1/auth/login/", "/api//v1/auth/login"]) {
      const res = await fetch(`${pair.a().url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "rpc-dora", password })
      })
      expect(res.status, path).toBe(404)
      expect(await res.text(), path).not.toContain("accessToken")
    }
    // REST and RPC agree on the accounts: one registered over RPC signs in over REST.
    expect((await call(pair.a().url, "POST", "/auth/login", { username: "rpc-dora", password })).status).toBe(200)
  })
})
