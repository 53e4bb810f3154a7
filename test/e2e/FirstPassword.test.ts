/**
 * Setting a first password on an account made by an OpenID Connect sign-in
 * (through a real provider process and the real flow), against two real
 * nodes on one real Postgres, over REST and typed RPC: the password rules,
 * a current code as proof when TOTP is on, `PasswordAlreadySet` for an
 * account with a password, refusals checked in SQL to leave the stored
 * hash `!`, other sessions left open, and the password then signing in.
 */
import { describe, expect, it, vi } from "vitest"
import { authClient, call, type TokenPair } from "../fixtures/AuthClient.ts"
import { authenticator, expectAnswer, mfaClient } from "../fixtures/MfaClient.ts"
import { oidcPairForSuite } from "../fixtures/OidcPair.ts"
import { failure, ok, rpc } from "../fixtures/RpcCalls.ts"

const password = "a long and unusual passphrase"

describe("a first password for an OIDC account", () => {
  const pair = oidcPairForSuite("first-pw", {
    "nina-at-idp": { preferred_username: "nina" },
    "omar-at-idp": { preferred_username: "omar" },
    "pia-at-idp": { preferred_username: "pia" },
    "quin-at-idp": { preferred_username: "quin" }
  })

  const setPassword = (token: string, body: unknown, node = pair.a()) => call(node.url, "POST", "/auth/password/set", body, token)
  const hashOf = async (userId: string) =>
    (await pair.sql().query("SELECT password_hash FROM plexi_accounts WHERE user_id = $1", [userId])).rows[0].password_hash as string
  const oidcAccount = async (login: string) => {
    const answer = await pair.signIn(login)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    const tokens = answer.body as TokenPair
    expect(await hashOf(tokens.userId)).toBe("!")
    return tokens
  }

  it("sets it with the password rules, keeps the other sessions, signs in with it, and refuses a second time", async () => {
    const first = await oidcAccount("nina-at-idp")
    const other = (await pair.signIn("nina-at-idp", pair.b())).body as TokenPair
    expect(other.userId).toBe(first.userId)
    // Before: no password signs in.
    expect((await authClient(pair.b().url).login({ username: "nina", password })).body._tag).toBe("InvalidCredentials")

    for (const [weak, reason] of [["short", "too_short"], ["Password2024!", "common"]] as const) {
      const refused = await setPassword(first.accessToken, { newPassword: weak })
      expect(refused.status).toBe(400)
      expect(refused.body).toMatchObject({ _tag: "WeakPassword", reason })
    }
    expect((await setPassword(first.accessToken, { newPassword: 42 })).status).toBe(400)
    expect(await hashOf(first.userId)).toBe("!")

    const set = await setPassword(first.accessToken, { newPassword: password })
    expect(set.status, JSON.stringify(set.body)).toBe(200)
    expect(set.headers.get("cache-control")).toBe("no-store")
    expect(set.body).toEqual({ userId: first.userId, passwordSet: true })
    expect(await hashOf(first.userId)).toMatch(/^\$argon2id\$/)
    // Both sessions stay open: this one and the other node's.
    expect((await call(pair.b().url, "GET", "/me", undefined, other.accessToken)).status).toBe(200)
    expect((await authClient(pair.a().url).sessions(first.accessToken)).body).toHaveLength(2)
    expect((await authClient(pair.b().url).signIn("nina", password)).userId).toBe(first.userId)

    const again = await setPassword(other.accessToken, { newPassword: "another long passphrase" }, pair.b())
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ _tag: "PasswordAlreadySet" })
    const registered = await authClient(pair.a().url).signUp("rachel", password)
    expect((await setPassword(registered.accessToken, { newPassword: "another long passphrase" })).body._tag).toBe("PasswordAlreadySet")
    await vi.waitFor(async () => {
      const rows = (await pair.sql().query("SELECT details FROM plexi_audit_log WHERE action = 'auth.password_set' AND actor = $1", [first.userId])).rows
      expect(rows.map((r) => JSON.parse(r.details))).toEqual([{ proof: "none" }])
    }, { timeout: 10_000, interval: 100 })
  }, 90_000)

  it("with TOTP on, needs a current code: none or a wrong one changes nothing, a right one sets it", async () => {
    const account = await oidcAccount("omar-at-idp")
    const mfa = mfaClient(pair.a().url)
    const app = authenticator(expectAnswer(await mfa.enrol(account.accessToken), 200, "enrol").uri)
    const { backupCodes } = expectAnswer(await mfa.confirm(account.accessToken, app.now()), 200, "confirm")

    const without = await setPassword(account.accessToken, { newPassword: password })
    expect(without.status).toBe(400)
    expect(without.body).toMatchObject({ _tag: "InvalidRequest", message: "this account has MFA on: send a current TOTP or backup code as code" })
    const wrong = await setPassword(account.accessToken, { newPassword: password, code: "000000" === app.now() ? "111111" : "000000" })
    expect(wrong.status).toBe(401)
    expect(wrong.body).toMatchObject({ _tag: "InvalidMfaCode", reason: "wrong" })
    expect(await hashOf(account.userId)).toBe("!")
    // Nothing was consumed either: every backup code is still unused.
    expect(expectAnswer(await mfa.status(account.accessToken), 200, "status")).toMatchObject({ totp: "on", backupCodesLeft: 10 })

    const set = await setPassword(account.accessToken, { newPassword: password, code: backupCodes[0] }, pair.b())
    expect(set.status, JSON.stringify(set.body)).toBe(200)
    expect(expectAnswer(await mfa.status(account.accessToken), 200, "status")).toMatchObject({ backupCodesLeft: 9 })
    // The password is a first factor: sign-in still asks for the second.
    expect((await authClient(pair.a().url).login({ username: "omar", password })).body._tag).toBe("MfaRequired")
  }, 90_000)

  it("lets exactly one of two first passwords sent at once win", async () => {
    const account = await oidcAccount("pia-at-idp")
    const answers = await Promise.all([
      setPassword(account.accessToken, { newPassword: "the first of two passphrases" }, pair.a()),
      setPassword(account.accessToken, { newPassword: "the second of two passphrases" }, pair.b())
    ])
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409])
    const winner = answers.findIndex((a) => a.status === 200)
    await authClient(pair.a().url).signIn("pia", winner === 0 ? "the first of two passphrases" : "the second of two passphrases")
  }, 90_000)

  it("serves the same as the SetPassword RPC", async () => {
    const account = await oidcAccount("quin-at-idp")
    expect(await failure(rpc(pair.b(), (c) => c.SetPassword({ newPassword: "short" }), account.accessToken)))
      .toMatchObject({ _tag: "WeakPassword", reason: "too_short" })
    expect(await ok(rpc(pair.b(), (c) => c.SetPassword({ newPassword: password }), account.accessToken)))
      .toEqual({ userId: account.userId, passwordSet: true })
    expect(await failure(rpc(pair.a(), (c) => c.SetPassword({ newPassword: password }), account.accessToken)))
      .toMatchObject({ _tag: "PasswordAlreadySet" })
    expect(await failure(rpc(pair.a(), (c) => c.SetPassword({ newPassword: password })))).toMatchObject({ _tag: "Unauthorized" })
    await ok(rpc(pair.a(), (c) => c.Login({ username: "quin", password })))
  }, 90_000)
})
