/**
 * The admin MFA reset (`POST /api/v1/admin/users/:userId/mfa/reset`, the
 * `ResetMfa` RPC) against two real node processes on one real Postgres:
 * a member and an admin on an owner are refused with every row as it was
 * (checked in SQL) and the refusal audited; a reset removes TOTP, the
 * backup codes and the security keys, ends the sessions (the socket on the
 * other node closes with 4003), and the user signs in with the password
 * alone, no code asked.
 */
import { UserId } from "plexichat/client"
import { beforeAll, describe, expect, it, vi } from "vitest"
import { authClient, call, type TokenPair } from "../fixtures/AuthClient.ts"
import { WsClient } from "../fixtures/Clients.ts"
import { authenticator, expectAnswer, mfaClient } from "../fixtures/MfaClient.ts"
import { postgresPairForSuite } from "../fixtures/PostgresPair.ts"
import { closedAfter } from "../fixtures/RevocationChecks.ts"
import { failure, ok, rpc } from "../fixtures/RpcCalls.ts"

const password = "a long and unusual passphrase"

describe("admin MFA reset", () => {
  const pair = postgresPairForSuite("mfa-reset")

  const reset = (token: string, userId: string) => call(pair.a().url, "POST", `/admin/users/${userId}/mfa/reset`, undefined, token)

  /** Every second-factor row of the account, and its sessions still open. */
  const factorRows = async (userId: string) => {
    const one = async (text: string) => (await pair.sql().query(text, [userId])).rows
    return {
      totp: await one("SELECT secret_sealed, confirmed_at, last_used_step FROM plexi_mfa_totp WHERE user_id = $1"),
      codes: await one("SELECT code_hash, used_at FROM plexi_mfa_backup_codes WHERE user_id = $1 ORDER BY code_hash"),
      keys: await one("SELECT id, counter FROM plexi_webauthn_credentials WHERE user_id = $1 ORDER BY id"),
      sessions: await one("SELECT id FROM plexi_sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id")
    }
  }

  /** Signs `username` up with TOTP on (enrolled and confirmed over REST) and a registered security key (a row). */
  const withFactors = async (username: string) => {
    const user = await authClient(pair.a().url).signUp(username, password)
    const mfa = mfaClient(pair.b().url)
    const app = authenticator(expectAnswer(await mfa.enrol(user.accessToken), 200, "enrol").uri)
    expectAnswer(await mfa.confirm(user.accessToken, app.now()), 200, "confirm")
    // A key as registration stores it; the sign-in gate counts the account's keys.
    await pair.sql().query(
      "INSERT INTO plexi_webauthn_credentials (id, user_id, public_key, counter, transports, name, created_at) VALUES ($1, $2, 'pk', 0, '[]', 'key', 0)",
      [`cred-${username}`, user.userId]
    )
    const login = await authClient(pair.b().url).login({ username, password })
    expect(login.body).toMatchObject({ _tag: "MfaRequired", factors: ["totp", "backup_code", "webauthn"] })
    return { ...user, app }
  }

  const audited = (actor: string, action: string, target: string) =>
    vi.waitFor(async () => {
      const rows = (await pair.sql().query("SELECT details FROM plexi_audit_log WHERE actor = $1 AND action = $2 AND target = $3", [actor, action, target])).rows
      expect(rows.length).toBeGreaterThan(0)
      return rows.at(-1)!.details as string
    }, { timeout: 10_000, interval: 100 })

  let owner: TokenPair
  let admin: TokenPair

  beforeAll(async () => {
    // The first account of the empty installation is the owner.
    owner = await authClient(pair.a().url).signUp("reset-owner", password)
    expect(owner.role).toBe("owner")
    admin = await authClient(pair.a().url).signUp("reset-admin", password)
    expect((await call(pair.a().url, "POST", `/admin/users/${admin.userId}/role`, { role: "admin" }, owner.accessToken)).status).toBe(200)
  }, 60_000)

  it("refuses a member, an admin on an owner and anyone on their own account, changing nothing, and audits the refusals", async () => {
    const member = await authClient(pair.a().url).signUp("reset-member", password)
    const victim = await withFactors("reset-victim")
    const ownerRows = await factorRows(owner.userId)
    const before = await factorRows(victim.userId)

    for (const answer of [await reset(member.accessToken, victim.userId), await reset(member.accessToken, "u_nobody")]) {
      expect(answer.status).toBe(403)
      expect(answer.body).toMatchObject({ _tag: "Forbidden", message: "only a workspace owner or admin may manage accounts" })
    }
    expect(await failure(rpc(pair.b(), (c) => c.ResetMfa({ userId: UserId.make(victim.userId) }), member.accessToken)))
      .toMatchObject({ _tag: "Forbidden" })
    const onOwner = await reset(admin.accessToken, owner.userId)
    expect(onOwner.status).toBe(403)
    expect(onOwner.body.message).toBe("only an owner may manage an owner's account")
    expect(await failure(rpc(pair.b(), (c) => c.ResetMfa({ userId: UserId.make(owner.userId) }), admin.accessToken)))
      .toMatchObject({ _tag: "Forbidden", message: "only an owner may manage an owner's account" })
    expect((await reset(admin.accessToken, admin.userId)).body.message).toMatch(/^manage your own second factors/)
    expect((await reset(admin.accessToken, "u_nobody")).body).toEqual({ _tag: "AccountNotFound", userId: "u_nobody" })

    expect(await factorRows(victim.userId)).toEqual(before)
    expect(await factorRows(owner.userId)).toEqual(ownerRows)
    expect(await audited(member.userId, "admin.mfa_reset.denied", victim.userId)).toContain("only a workspace owner or admin")
    expect(await audited(admin.userId, "admin.mfa_reset.denied", owner.userId)).toContain("only an owner may manage")
    // Still two steps for the victim.
    expect((await authClient(pair.a().url).login({ username: "reset-victim", password })).body._tag).toBe("MfaRequired")
  }, 90_000)

  it("removes TOTP, backup codes and keys over REST, ends the sessions, and lets the user in with the password alone", async () => {
    const victim = await withFactors("rest-victim")
    const socket = await WsClient.connect(pair.b().wsUrl, victim.accessToken)
    let answer: Awaited<ReturnType<typeof reset>> | undefined
    await closedAfter([socket], "session_revoked", async () => {
      answer = await reset(admin.accessToken, victim.userId)
    })
    expect(answer!.status, JSON.stringify(answer!.body)).toBe(200)
    expect(answer!.body).toEqual({
      userId: victim.userId,
      revoked: 1,
      removed: { totp: true, backupCodes: 10, webauthnKeys: 1 }
    })
    expect(await factorRows(victim.userId)).toEqual({ totp: [], codes: [], keys: [], sessions: [] })
    expect((await call(pair.b().url, "GET", "/me", undefined, victim.accessToken)).status).toBe(401)
    expect(JSON.parse(await audited(admin.userId, "admin.mfa_reset", victim.userId)))
      .toEqual({ revoked: 1, totp: true, backupCodes: 10, webauthnKeys: 1 })

    // The password alone opens a session now: no MfaRequired, the old authenticator is not asked for.
    const signedIn = await authClient(pair.b().url).signIn("rest-victim", password)
    expect(signedIn.userId).toBe(victim.userId)
    expect(expectAnswer(await mfaClient(pair.a().url).status(signedIn.accessToken), 200, "status")).toEqual({ totp: "off", backupCodesLeft: 0 })
    // The old authenticator's code is no proof any more.
    expect((await mfaClient(pair.a().url).disable(signedIn.accessToken, { code: victim.app.now() })).body._tag).toBe("MfaNotEnabled")
  }, 90_000)

  it("does the same as a typed RPC on either node, for an owner", async () => {
    const victim = await withFactors("rpc-victim")
    const done = await ok(rpc(pair.b(), (c) => c.ResetMfa({ userId: UserId.make(victim.userId) }), owner.accessToken))
    expect(done).toEqual({ userId: victim.userId, revoked: 1, removed: { totp: true, backupCodes: 10, webauthnKeys: 1 } })
    expect(await factorRows(victim.userId)).toEqual({ totp: [], codes: [], keys: [], sessions: [] })
    await vi.waitFor(async () => {
      expect(await failure(rpc(pair.a(), (c) => c.Me({}), victim.accessToken))).toMatchObject({ _tag: "Unauthorized" })
    }, { timeout: 5_000 })
    const signedIn = await ok(rpc(pair.a(), (c) => c.Login({ username: "rpc-victim", password })))
    expect(signedIn).toMatchObject({ tokenType: "Bearer", userId: victim.userId })
    // A reset of an account without second factors removes nothing and still ends its sessions.
    expect(await ok(rpc(pair.a(), (c) => c.ResetMfa({ userId: UserId.make(victim.userId) }), owner.accessToken)))
      .toEqual({ userId: victim.userId, revoked: 1, removed: { totp: false, backupCodes: 0, webauthnKeys: 0 } })
  }, 90_000)

  it("lists the operation in the OpenAPI document with its errors", async () => {
    const spec = (await call(pair.a().url, "GET", "/openapi.json")).body
    const operation = spec.paths["/api/v1/admin/users/{userId}/mfa/reset"].post
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["200", "403", "404"]))
  })
})
