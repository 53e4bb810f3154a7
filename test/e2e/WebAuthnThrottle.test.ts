/**
 * Passwordless WebAuthn sign-ins and the login throttle, end to end:
 * Chromium's virtual authenticator (test/fixtures/Browser.ts), a real node
 * process on one real Postgres. A refused assertion (a stale or expired
 * challenge, a forged signature, an unknown credential) counts as a failed
 * password sign-in counts, per address and per the account its credential
 * names, and is audited as `auth.login_failed` with `method: "webauthn"`;
 * the pair's lock then holds keys and passwords alike; and a key's success
 * clears no password failure. Rows are read in SQL.
 *
 * Skips, saying why, when /usr/bin/chromium is missing (.ci/run installs it).
 */
import type pg from "pg"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { type Answer, authClient, call, type TokenPair } from "../fixtures/AuthClient.ts"
import { browserMissing, type CeremonyPage, ceremonyPage, type Chromium, launchChromium, type PageServer, servePage } from "../fixtures/Browser.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { makeTestDatabase, sqlClientOf, type TestDatabase } from "../fixtures/TestDatabase.ts"

const password = "a long and unusual passphrase"
/** Failures of one account from one address that lock the pair (no delay before: `PLEXI_LOGIN_DELAY_AFTER` is high). */
const LOCK_AFTER = 3
const missing = browserMissing()
if (missing !== undefined) console.warn(`WebAuthn throttle tests skipped: ${missing}`)

const status = (answer: Answer, expected: number, tag?: string) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(expected)
  if (tag !== undefined) expect(answer.body._tag).toBe(tag)
  return answer.body
}

describe.skipIf(missing !== undefined)("WebAuthn sign-in failures in the login throttle and the audit log", () => {
  let db: TestDatabase
  let node: NodeProcess
  let sql: pg.Client
  let site: PageServer
  let browser: Chromium
  let users = 0

  const rows = async (query: string, params: Array<unknown> = []) => (await sql.query(query, params)).rows
  /** The throttle's failures of `username` from the node's view of this address (the pair), and of the account. */
  const throttled = async (username: string) => {
    const found = await rows("SELECT address, failures, locked_until FROM plexi_login_throttle WHERE username = $1", [`u:${username}`])
    return { pair: found.find((r) => r.address !== "")?.failures ?? 0, account: found.find((r) => r.address === "")?.failures ?? 0 }
  }
  const addressFailures = async () =>
    Number((await rows("SELECT coalesce(sum(failures), 0) AS n FROM plexi_login_throttle WHERE username = '' AND address <> ''"))[0].n)
  /** The `auth.login_failed` entries matching `where`, once there are `n` (the log commits them in the background). */
  const failedEntries = (where: string, params: Array<unknown>, n: number) =>
    vi.waitFor(async () => {
      const found = await rows(`SELECT target, ip, details FROM plexi_audit_log WHERE action = 'auth.login_failed' AND ${where} ORDER BY seq`, params)
      expect(found.length).toBe(n)
      return found.map((r) => ({ target: r.target, ip: r.ip, details: JSON.parse(r.details) }))
    }, { timeout: 10_000, interval: 100 })

  const signUp = (): Promise<TokenPair> => authClient(node.url).signUp(`throttled-${++users}`, password)
  const registerKey = async (tab: CeremonyPage, user: TokenPair) => {
    const { challengeId, options } = status(await call(node.url, "POST", "/auth/webauthn/register/options", { password }, user.accessToken), 200)
    const response = await tab.create(options)
    return status(await call(node.url, "POST", "/auth/webauthn/register/verify", { challengeId, response }, user.accessToken), 201)
  }
  const assertion = async (tab: CeremonyPage) => {
    const { challengeId, options } = status(await call(node.url, "POST", "/auth/webauthn/login/options"), 200)
    return { challengeId, response: await tab.get(options) }
  }
  const login = (challengeId: string, response: unknown) => call(node.url, "POST", "/auth/webauthn/login/verify", { challengeId, response })
  const passwordLogin = (username: string, pw: string) => authClient(node.url).login({ username, password: pw })

  beforeAll(async () => {
    db = await makeTestDatabase()
    expect(db.kind, "these tests need the real Postgres at 127.0.0.1:5432").toBe("postgres")
    sql = await sqlClientOf(db)
    site = await servePage()
    const env = {
      PLEXI_WEBAUTHN_RP_ID: "localhost",
      PLEXI_WEBAUTHN_ORIGINS: site.origin(),
      PLEXI_LOGIN_DELAY_AFTER: "100",
      PLEXI_LOGIN_LOCK_AFTER: String(LOCK_AFTER)
    }
    ;[node, browser] = await Promise.all([startNode({ name: "webauthn-throttle", databaseUrl: db.url, env }), launchChromium()])
  }, 120_000)

  afterAll(async () => {
    await Promise.all([browser?.close(), node?.stop(), site?.close(), sql?.end()])
    await db?.drop()
  })

  it("counts and audits refused assertions as failed sign-ins of the key's account, and the pair's lock then holds the key and the password", async () => {
    const tab = await ceremonyPage(browser, site.origin())
    const user = await signUp()
    const key = await registerKey(tab, user)

    // 1: a real assertion sent with a challenge id that was never issued.
    const first = await assertion(tab)
    status(await login("wc_never-issued", first.response), 401, "WebAuthnAuthenticationRefused")
    // 2: a forged signature.
    const forged = await assertion(tab)
    const signature = Buffer.from(forged.response.response.signature, "base64url")
    signature[signature.length - 1] ^= 0xff
    const badSignature = { ...forged.response, response: { ...forged.response.response, signature: signature.toString("base64url") } }
    const invalid = status(await login(forged.challengeId, badSignature), 401, "WebAuthnAuthenticationRefused")
    expect(await throttled(user.username)).toEqual({ pair: 2, account: 2 })
    // 3: an expired challenge: the third failure locks the pair.
    const late = await assertion(tab)
    await sql.query("UPDATE plexi_webauthn_challenges SET expires_at = 1 WHERE id = $1", [late.challengeId])
    status(await login(late.challengeId, late.response), 401, "WebAuthnAuthenticationRefused")
    expect(await throttled(user.username)).toEqual({ pair: LOCK_AFTER, account: LOCK_AFTER })

    const audited = await failedEntries("target = $1", [user.userId], 3)
    expect(audited.map((e) => e.details)).toEqual([
      { method: "webauthn", reason: "challenge", username: user.username },
      { method: "webauthn", reason: invalid.reason, username: user.username },
      { method: "webauthn", reason: "challenge", username: user.username }
    ])
    for (const e of audited) expect(e.ip).toBe("127.0.0.1")

    // Locked: a valid assertion and the right password are both refused, before any check, and open no session.
    const sessions = Number((await rows("SELECT count(*) AS n FROM plexi_sessions WHERE user_id = $1", [user.userId]))[0].n)
    const valid = await assertion(tab)
    const byKey = await login(valid.challengeId, valid.response)
    expect(status(byKey, 429, "SignInLocked").scope).toBe("account")
    expect(Number(byKey.headers.get("retry-after"))).toBeGreaterThan(0)
    expect(status(await passwordLogin(user.username, password), 429, "SignInLocked").scope).toBe("account")
    expect(Number((await rows("SELECT count(*) AS n FROM plexi_sessions WHERE user_id = $1", [user.userId]))[0].n)).toBe(sessions)
    expect((await rows("SELECT last_used_at FROM plexi_webauthn_credentials WHERE id = $1", [key.id]))[0].last_used_at).toBeNull()
    await tab.close()
  }, 90_000)

  it("leaves a pair's password failures as they were when a key signs in: the next wrong password still locks it", async () => {
    const tab = await ceremonyPage(browser, site.origin())
    const user = await signUp()
    await registerKey(tab, user)
    for (let i = 0; i < LOCK_AFTER - 1; i++) status(await passwordLogin(user.username, "a wrong guess"), 401, "InvalidCredentials")
    expect(await throttled(user.username)).toEqual({ pair: LOCK_AFTER - 1, account: LOCK_AFTER - 1 })

    const { challengeId, response } = await assertion(tab)
    expect(status(await login(challengeId, response), 200).userId).toBe(user.userId)
    // The key proved the key, not the password: the failures stand.
    expect(await throttled(user.username)).toEqual({ pair: LOCK_AFTER - 1, account: LOCK_AFTER - 1 })
    status(await passwordLogin(user.username, "another wrong guess"), 401, "InvalidCredentials")
    expect(status(await passwordLogin(user.username, password), 429, "SignInLocked").scope).toBe("account")
    await tab.close()
  }, 90_000)

  it("counts an unknown credential on the address alone, and audits it with no target", async () => {
    const tab = await ceremonyPage(browser, site.origin())
    const user = await signUp()
    const key = await registerKey(tab, user)
    status(await call(node.url, "DELETE", `/auth/webauthn/keys/${key.id}`, undefined, user.accessToken), 200)
    const before = await addressFailures()
    const { challengeId, response } = await assertion(tab)
    expect(response.id).toBe(key.id)
    expect(status(await login(challengeId, response), 401, "WebAuthnAuthenticationRefused").reason).toBe("unknown_key")
    expect(await addressFailures()).toBe(before + 1)
    // No account was named, so none is counted.
    expect(await throttled(user.username)).toEqual({ pair: 0, account: 0 })
    const audited = await failedEntries("target IS NULL AND details LIKE $1", ['%"unknown_key"%'], 1)
    expect(audited.map((e) => e.details)).toEqual([{ method: "webauthn", reason: "unknown_key" }])
    await tab.close()
  }, 90_000)
})
