/**
 * WebAuthn security keys end to end: Debian's Chromium with its virtual
 * authenticator (CTAP2, resident keys, user verification) through the
 * DevTools protocol, a ceremony page served by the test on the RP origin
 * (http://localhost:<port>), and two real node processes on one real
 * Postgres. Options come from one node and are verified by the other, so
 * challenges must be shared through the database. Every refusal is checked
 * for its typed answer and for rows left as they were.
 *
 * Skips, saying why, when /usr/bin/chromium is missing (.ci/run installs it).
 */
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, authClient, call, type TokenPair } from "../fixtures/AuthClient.ts"
import { browserMissing, type CeremonyPage, ceremonyPage, type Chromium, launchChromium, type PageServer, servePage } from "../fixtures/Browser.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { failure, ok as rpcOk, rpc } from "../fixtures/RpcCalls.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const password = "a long and unusual passphrase"
const missing = browserMissing()
if (missing !== undefined) console.warn(`WebAuthn browser tests skipped: ${missing}`)

const webauthn = (baseUrl: string) => ({
  /** With the password as the proof a registration needs, unless `proof` says otherwise. */
  registrationOptions: (token: string, name?: string, proof: Record<string, string> = { password }) =>
    call(baseUrl, "POST", "/auth/webauthn/register/options", { ...proof, ...(name === undefined ? {} : { name }) }, token),
  register: (token: string, challengeId: string, response: unknown) =>
    call(baseUrl, "POST", "/auth/webauthn/register/verify", { challengeId, response }, token),
  keys: (token: string) => call(baseUrl, "GET", "/auth/webauthn/keys", undefined, token),
  deleteKey: (token: string, keyId: string) => call(baseUrl, "DELETE", `/auth/webauthn/keys/${keyId}`, undefined, token),
  loginOptions: () => call(baseUrl, "POST", "/auth/webauthn/login/options"),
  login: (challengeId: string, response: unknown) => call(baseUrl, "POST", "/auth/webauthn/login/verify", { challengeId, response }),
  mfaOptions: (challenge: string) => call(baseUrl, "POST", "/auth/mfa/webauthn/options", { challenge }),
  mfaVerify: (challenge: string, challengeId: string, response: unknown) =>
    call(baseUrl, "POST", "/auth/mfa/webauthn/verify", { challenge, challengeId, response })
})

const ok = (answer: Answer, status = 200) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status)
  expect(answer.headers.get("cache-control")).toBe("no-store")
  return answer.body
}

const refusedWith = (answer: Answer, status: number, tag: string, reason?: string) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status)
  expect(answer.body._tag).toBe(tag)
  if (reason !== undefined) expect(answer.body.reason).toBe(reason)
}

/** Base64 (as the DevTools protocol gives binary) to base64url (as WebAuthn JSON has it). */
const base64url = (base64: string) => Buffer.from(base64, "base64").toString("base64url")

describe.skipIf(missing !== undefined)("WebAuthn security keys in Chromium's virtual authenticator, on two nodes", () => {
  let db: TestDatabase
  let a: NodeProcess
  let b: NodeProcess
  let sql: pg.Client
  let site: PageServer
  let elsewhere: PageServer
  let browser: Chromium
  let users = 0

  const rows = async (query: string, params: Array<unknown> = []) => (await sql.query(query, params)).rows
  const count = async (table: string, where = "TRUE", params: Array<unknown> = []) =>
    Number((await rows(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, params))[0].n)
  const sessionsOf = (userId: string) => count("plexi_sessions", "user_id = $1", [userId])
  const keyRow = async (id: string) =>
    (await rows("SELECT user_id, counter::int AS counter, last_used_at, name FROM plexi_webauthn_credentials WHERE id = $1", [id]))[0]

  const signUp = (): Promise<TokenPair> => authClient(a.url).signUp(`key-user-${++users}`, password)

  /** Registers a key for `user` in `tab`: options from node A, verified by node B. */
  const registerKey = async (tab: CeremonyPage, user: TokenPair, name = "virtual key") => {
    const { challengeId, options } = ok(await webauthn(a.url).registrationOptions(user.accessToken, name))
    const response = await tab.create(options)
    return ok(await webauthn(b.url).register(user.accessToken, challengeId, response), 201)
  }

  /** A passwordless assertion from `tab` for options from node `from`; answers the challenge id and the response. */
  const assertion = async (tab: CeremonyPage, from: NodeProcess, rpId?: string) => {
    const { challengeId, options } = ok(await webauthn(from.url).loginOptions())
    return { challengeId, response: await tab.get(rpId === undefined ? options : { ...options, rpId }) }
  }

  beforeAll(async () => {
    db = await makeTestDatabase()
    expect(db.kind, "these tests need the real Postgres at 127.0.0.1:5432").toBe("postgres")
    site = await servePage()
    elsewhere = await servePage()
    const env = {
      PLEXI_WEBAUTHN_RP_ID: "localhost",
      PLEXI_WEBAUTHN_RP_NAME: "PlexiChat test",
      // sub.localhost is a legitimate origin of the RP; elsewhere's origin is not listed.
      PLEXI_WEBAUTHN_ORIGINS: `${site.origin()},${site.origin("sub.localhost")}`
    }
    ;[a, b, browser] = await Promise.all([
      startNode({ name: "webauthn-a", databaseUrl: db.url, env }),
      startNode({ name: "webauthn-b", databaseUrl: db.url, env }),
      launchChromium()
    ])
    sql = new pg.Client({ connectionString: db.url })
    await sql.connect()
  }, 120_000)

  afterAll(async () => {
    await sql?.end()
    await browser?.close()
    await Promise.all([a?.stop(), b?.stop(), site?.close(), elsewhere?.close()])
    await db?.drop()
  })

  it("registers a key and signs in with it without a password, each ceremony verified by the node that did not issue it", async () => {
    const tab = await ceremonyPage(browser, site.origin())
    const alice = await signUp()
    const key = await registerKey(tab, alice, "Alice's key")
    expect(key).toMatchObject({ name: "Alice's key", lastUsedAt: null })
    expect(key.transports).toContain("usb")
    const [stored] = await tab.credentials()
    expect(stored!.isResidentCredential).toBe(true)
    expect(base64url(stored!.credentialId)).toBe(key.id)
    expect(base64url(stored!.userHandle!)).toBe(Buffer.from(alice.userId).toString("base64url"))
    expect(ok(await webauthn(b.url).keys(alice.accessToken))).toEqual([key])
    expect(await keyRow(key.id)).toMatchObject({ user_id: alice.userId, name: "Alice's key", last_used_at: null })

    const before = await sessionsOf(alice.userId)
    const { challengeId, response } = await assertion(tab, b)
    const tokens: TokenPair = ok(await webauthn(a.url).login(challengeId, response))
    expect(tokens).toMatchObject({ tokenType: "Bearer", userId: alice.userId, username: alice.username, role: alice.role })
    expect(await sessionsOf(alice.userId)).toBe(before + 1)
    // The pair is a real session: its access token works on the other node, and its refresh token rotates.
    const sessions = ok(await authClient(b.url).sessions(tokens.accessToken))
    expect(sessions.find((s: { current: boolean }) => s.current).id).toBe(tokens.sessionId)
    expect(ok(await authClient(b.url).refresh(tokens.refreshToken)).sessionId).toBe(tokens.sessionId)
    const used = await keyRow(key.id)
    expect(Number(used.last_used_at)).toBeGreaterThan(0)
    expect(used.counter).toBe((await tab.credentials())[0]!.signCount)
    expect(await count("plexi_webauthn_challenges", "id = $1", [challengeId])).toBe(0)
    await tab.close()
  }, 60_000)

  it("refuses a replayed assertion and a replayed registration: their challenges were used up", async () => {
    const tab = await ceremonyPage(browser, site.origin())
    const user = await signUp()
    const { challengeId: regChallenge, options } = ok(await webauthn(a.url).registrationOptions(user.accessToken))
    const registration = await tab.create(options)
    ok(await webauthn(a.url).register(user.accessToken, regChallenge, registration), 201)
    refusedWith(await webauthn(b.url).register(user.accessToken, regChallenge, registration), 400, "WebAuthnRegistrationRefused", "challenge")
    expect(await count("plexi_webauthn_credentials", "user_id = $1", [user.userId])).toBe(1)

    const { challengeId, response } = await assertion(tab, a)
    ok(await webauthn(b.url).login(challengeId, response))
    const sessions = await sessionsOf(user.userId)
    const counter = (await keyRow(response.id)).counter
    for (const node of [a, b]) {
      refusedWith(await webauthn(node.url).login(challengeId, response), 401, "WebAuthnAuthenticationRefused", "challenge")
    }
    // The same fresh assertion sent to both nodes at once: they take turns on the challenge's row, one signs in.
    const raced = await assertion(tab, a)
    const answers = await Promise.all([a, b].map((node) => webauthn(node.url).login(raced.challengeId, raced.response)))
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401])
    expect(answers.find((answer) => answer.status === 401)!.body.reason).toBe("challenge")
    expect(await sessionsOf(user.userId)).toBe(sessions + 1)
    // Replayed under a fresh challenge: the signed client data names the old one.
    const fresh = ok(await webauthn(a.url).loginOptions())
    refusedWith(await webauthn(a.url).login(fresh.challengeId, response), 401, "WebAuthnAuthenticationRefused", "challenge")
    expect(await sessionsOf(user.userId)).toBe(sessions + 1)
    expect((await keyRow(response.id)).counter).toBeGreaterThan(counter)

    // A challenge past its lifetime is refused, and stays for the purge.
    const late = await assertion(tab, a)
    await sql.query("UPDATE plexi_webauthn_challenges SET expires_at = 1 WHERE id = $1", [late.challengeId])
    refusedWith(await webauthn(b.url).login(late.challengeId, late.response), 401, "WebAuthnAuthenticationRefused", "challenge")
    expect(await sessionsOf(user.userId)).toBe(sessions + 1)
    // The next challenge stored (on any node) purges the expired ones.
    ok(await webauthn(b.url).loginOptions())
    expect(await count("plexi_webauthn_challenges", "id = $1", [late.challengeId])).toBe(0)
    await tab.close()
  }, 60_000)

  it("refuses a ceremony from an origin that is not listed, and one signed for another RP id, writing nothing", async () => {
    const tab = await ceremonyPage(browser, site.origin())
    const user = await signUp()
    const key = await registerKey(tab, user)

    // Another origin of the same host (a page the RP does not serve WebAuthn on): rp id "localhost" is valid there.
    const newTab = await ceremonyPage(browser, elsewhere.origin())
    const reg = ok(await webauthn(a.url).registrationOptions(user.accessToken))
    refusedWith(
      await webauthn(b.url).register(user.accessToken, reg.challengeId, await newTab.create(reg.options)),
      400,
      "WebAuthnRegistrationRefused",
      "origin"
    )
    await newTab.close()
    await tab.goto(elsewhere.origin())
    const sessions = await sessionsOf(user.userId)
    const counter = (await keyRow(key.id)).counter
    const away = await assertion(tab, a)
    refusedWith(await webauthn(b.url).login(away.challengeId, away.response), 401, "WebAuthnAuthenticationRefused", "origin")

    // A listed origin, but the browser was asked for another RP id (sub.localhost): its hash is not localhost's.
    const subTab = await ceremonyPage(browser, site.origin("sub.localhost"))
    const sub = ok(await webauthn(a.url).registrationOptions(user.accessToken))
    const subRegistration = await subTab.create({ ...sub.options, rp: { ...sub.options.rp, id: "sub.localhost" } })
    refusedWith(await webauthn(b.url).register(user.accessToken, sub.challengeId, subRegistration), 400, "WebAuthnRegistrationRefused", "rp_id")
    // The registered key's private key, scoped to sub.localhost in another authenticator: a valid signature over the wrong RP id.
    const [original] = (await tab.credentials()).filter((c) => base64url(c.credentialId) === key.id)
    const copyTab = await ceremonyPage(browser, site.origin("sub.localhost"))
    await copyTab.addCredential({ ...original!, rpId: "sub.localhost" })
    const wrongRp = await assertion(copyTab, a, "sub.localhost")
    expect(wrongRp.response.id).toBe(key.id)
    refusedWith(await webauthn(b.url).login(wrongRp.challengeId, wrongRp.response), 401, "WebAuthnAuthenticationRefused", "rp_id")
    await Promise.all([subTab.close(), copyTab.close()])

    expect(await count("plexi_webauthn_credentials", "user_id = $1", [user.userId])).toBe(1)
    expect(await sessionsOf(user.userId)).toBe(sessions)
    expect(await keyRow(key.id)).toMatchObject({ counter, last_used_at: null })
    // A refused ceremony rolls back the use of its challenge too: it stays until it expires (a success uses it up).
    expect(await count("plexi_webauthn_challenges", "id = ANY($1)", [[away.challengeId, wrongRp.challengeId]])).toBe(2)
    await tab.close()
  }, 60_000)

  it("refuses a cloned authenticator whose signature counter is behind the stored one", async () => {
    const tab = await ceremonyPage(browser, site.origin())
    const user = await signUp()
    const key = await registerKey(tab, user)
    const [snapshot] = await tab.credentials()
    const first = await assertion(tab, a)
    ok(await webauthn(b.url).login(first.challengeId, first.response))
    const stored = await keyRow(key.id)
    expect(stored.counter).toBeGreaterThan(snapshot!.signCount)

    // The clone: the same private key in another authenticator, at the counter it had when copied.
    const clone = await ceremonyPage(browser, site.origin())
    await clone.addCredential(snapshot!)
    const sessions = await sessionsOf(user.userId)
    const cloned = await assertion(clone, a)
    expect(cloned.response.id).toBe(key.id)
    refusedWith(await webauthn(b.url).login(cloned.challengeId, cloned.response), 401, "WebAuthnAuthenticationRefused", "counter")
    expect(await sessionsOf(user.userId)).toBe(sessions)
    expect(await keyRow(key.id)).toMatchObject({ counter: stored.counter, last_used_at: stored.last_used_at })
    await Promise.all([tab.close(), clone.close()])
  }, 60_000)

  it("makes a registered key a second factor: the password answers MfaRequired, and the key completes it on the other node", async () => {
    const tab = await ceremonyPage(browser, site.origin())
    const user = await signUp()
    const key = await registerKey(tab, user)
    const sessions = await sessionsOf(user.userId)
    const first = await authClient(a.url).login({ username: user.username, password, deviceName: "laptop" })
    refusedWith(first, 401, "MfaRequired")
    expect(first.body.factors).toEqual(["webauthn"])
    expect(await sessionsOf(user.userId)).toBe(sessions)

    const { challengeId, options } = ok(await webauthn(b.url).mfaOptions(first.body.challenge))
    expect(options.allowCredentials.map((c: { id: string }) => c.id)).toEqual([key.id])
    const response = await tab.get(options)
    const tokens: TokenPair = ok(await webauthn(a.url).mfaVerify(first.body.challenge, challengeId, response))
    expect(tokens.userId).toBe(user.userId)
    const listed = ok(await authClient(a.url).sessions(tokens.accessToken))
    expect(listed.find((s: { current: boolean }) => s.current).deviceName).toBe("laptop")
    expect(await sessionsOf(user.userId)).toBe(sessions + 1)
    expect((await rows("SELECT ended_reason FROM plexi_mfa_challenges WHERE user_id = $1", [user.userId]))[0].ended_reason).toBe("used")

    // Both challenges are used up: the same answer again, or new options for the completed sign-in, are refused.
    refusedWith(await webauthn(b.url).mfaVerify(first.body.challenge, challengeId, response), 401, "WebAuthnAuthenticationRefused", "challenge")
    refusedWith(await webauthn(b.url).mfaOptions(first.body.challenge), 401, "InvalidMfaChallenge", "used")
    expect(await sessionsOf(user.userId)).toBe(sessions + 1)
    await tab.close()
  }, 60_000)

  it("completes a user's sign-in challenge only with that user's key and that challenge, writing nothing otherwise", async () => {
    const [victimTab, attackerTab] = [await ceremonyPage(browser, site.origin()), await ceremonyPage(browser, site.origin())]
    const [victim, attacker] = [await signUp(), await signUp()]
    await registerKey(victimTab, victim)
    const attackerKey = await registerKey(attackerTab, attacker)
    const victimLogin = (await authClient(a.url).login({ username: victim.username, password })).body
    const attackerLogin = (await authClient(a.url).login({ username: attacker.username, password })).body
    const sessions = [await sessionsOf(victim.userId), await sessionsOf(attacker.userId)]

    // The attacker's own key, asked for the victim's challenge (discoverable, ignoring the victim's allowCredentials).
    const forVictim = ok(await webauthn(a.url).mfaOptions(victimLogin.challenge))
    const { allowCredentials: _, ...anyKey } = forVictim.options
    const signed = await attackerTab.get(anyKey)
    expect(signed.id).toBe(attackerKey.id)
    refusedWith(await webauthn(b.url).mfaVerify(victimLogin.challenge, forVictim.challengeId, signed), 401, "WebAuthnAuthenticationRefused", "unknown_key")
    // A WebAuthn challenge bound to another sign-in does not complete this one.
    const forAttacker = ok(await webauthn(a.url).mfaOptions(attackerLogin.challenge))
    const own = await attackerTab.get(forAttacker.options)
    refusedWith(await webauthn(b.url).mfaVerify(victimLogin.challenge, forAttacker.challengeId, own), 401, "InvalidMfaChallenge", "unknown")
    refusedWith(await webauthn(b.url).mfaOptions("mc_not-a-challenge"), 401, "InvalidMfaChallenge", "unknown")

    expect([await sessionsOf(victim.userId), await sessionsOf(attacker.userId)]).toEqual(sessions)
    expect(await count("plexi_mfa_challenges", "user_id = ANY($1) AND ended_at IS NULL AND attempts = 0", [[victim.userId, attacker.userId]])).toBe(2)
    expect((await keyRow(attackerKey.id)).last_used_at).toBeNull()
    // The refusals rolled back: the attacker's own sign-in still completes with its challenge.
    ok(await webauthn(b.url).mfaVerify(attackerLogin.challenge, forAttacker.challengeId, own))
    await Promise.all([victimTab.close(), attackerTab.close()])
  }, 60_000)

  it("serves the same operations as typed RPCs: register, list, passwordless, the second factor of Login, delete", async () => {
    const tab = await ceremonyPage(browser, site.origin())
    const [user, other] = [await signUp(), await signUp()]
    const reg = await rpcOk(rpc(a, (c) => c.WebAuthnRegistrationOptions({ name: "rpc key", password }), user.accessToken))
    const registration = await tab.create(reg.options)
    const key = await rpcOk(rpc(b, (c) => c.WebAuthnRegister({ challengeId: reg.challengeId, response: registration }), user.accessToken))
    expect(key.name).toBe("rpc key")
    expect(await rpcOk(rpc(a, (c) => c.ListWebAuthnKeys({}), user.accessToken))).toEqual([key])
    expect(await rpcOk(rpc(a, (c) => c.ListWebAuthnKeys({}), other.accessToken))).toEqual([])
    expect((await failure(rpc(a, (c) => c.ListWebAuthnKeys({}))))._tag).toBe("Unauthorized")

    const login = await rpcOk(rpc(b, (c) => c.WebAuthnLoginOptions({})))
    const assertion = await tab.get(login.options)
    const tokens = await rpcOk(rpc(a, (c) => c.WebAuthnLogin({ challengeId: login.challengeId, response: assertion })))
    expect(tokens.userId).toBe(user.userId)
    const replay = await failure(rpc(b, (c) => c.WebAuthnLogin({ challengeId: login.challengeId, response: assertion })))
    expect(replay).toMatchObject({ _tag: "WebAuthnAuthenticationRefused", reason: "challenge" })

    const required = await failure(rpc(a, (c) => c.Login({ username: user.username, password })))
    expect(required).toMatchObject({ _tag: "MfaRequired", factors: ["webauthn"] })
    const challenge = required._tag === "MfaRequired" ? required.challenge : ""
    const mfa = await rpcOk(rpc(b, (c) => c.WebAuthnMfaOptions({ challenge })))
    const second = await tab.get(mfa.options)
    const completed = await rpcOk(rpc(a, (c) => c.WebAuthnMfaVerify({ challenge, challengeId: mfa.challengeId, response: second })))
    expect(completed.userId).toBe(user.userId)

    const notTheirs = await failure(rpc(a, (c) => c.DeleteWebAuthnKey({ keyId: key.id }), other.accessToken))
    expect(notTheirs).toMatchObject({ _tag: "WebAuthnKeyNotFound" })
    expect(await rpcOk(rpc(b, (c) => c.DeleteWebAuthnKey({ keyId: key.id }), user.accessToken))).toEqual({ deleted: 1 })
    const sessions = await sessionsOf(user.userId)
    const after = await rpcOk(rpc(a, (c) => c.WebAuthnLoginOptions({})))
    const deleted = await tab.get(after.options)
    const gone = await failure(rpc(b, (c) => c.WebAuthnLogin({ challengeId: after.challengeId, response: deleted })))
    expect(gone).toMatchObject({ _tag: "WebAuthnAuthenticationRefused", reason: "unknown_key" })
    expect(await sessionsOf(user.userId)).toBe(sessions)
    await tab.close()
  }, 60_000)

  it("lists and deletes only the caller's own keys, and a deleted key no longer signs in", async () => {
    const tab = await ceremonyPage(browser, site.origin())
    const [owner, other] = [await signUp(), await signUp()]
    const key = await registerKey(tab, owner)
    expect(ok(await webauthn(a.url).keys(other.accessToken))).toEqual([])
    refusedWith(await webauthn(a.url).deleteKey(other.accessToken, key.id), 404, "WebAuthnKeyNotFound")
    expect(await keyRow(key.id)).toMatchObject({ user_id: owner.userId })
    refusedWith(await webauthn(a.url).keys("not-a-token"), 401, "Unauthorized")

    expect(ok(await webauthn(b.url).deleteKey(owner.accessToken, key.id))).toEqual({ deleted: 1 })
    expect(ok(await webauthn(a.url).keys(owner.accessToken))).toEqual([])
    refusedWith(await webauthn(a.url).deleteKey(owner.accessToken, key.id), 404, "WebAuthnKeyNotFound")
    const sessions = await sessionsOf(owner.userId)
    const { challengeId, response } = await assertion(tab, a)
    expect(response.id).toBe(key.id)
    refusedWith(await webauthn(b.url).login(challengeId, response), 401, "WebAuthnAuthenticationRefused", "unknown_key")
    expect(await sessionsOf(owner.userId)).toBe(sessions)
    expect(await keyRow(key.id)).toBeUndefined()
    await tab.close()
  }, 60_000)

  it("refuses registration without an access token, without a good proof, and hostile responses by their schema, writing nothing", async () => {
    const user = await signUp()
    refusedWith(await webauthn(a.url).registrationOptions("not-a-token"), 401, "Unauthorized")
    // A stolen access token alone cannot plant a key: the options need the password (or a current code) too.
    const challenges = await count("plexi_webauthn_challenges", "user_id = $1", [user.userId])
    refusedWith(await webauthn(a.url).registrationOptions(user.accessToken, undefined, {}), 400, "InvalidRequest")
    refusedWith(await webauthn(a.url).registrationOptions(user.accessToken, undefined, { password, code: "123456" }), 400, "InvalidRequest")
    refusedWith(await webauthn(a.url).registrationOptions(user.accessToken, undefined, { password: "not the password at all" }), 401, "InvalidCredentials")
    refusedWith(await webauthn(a.url).registrationOptions(user.accessToken, undefined, { code: "123456" }), 401, "InvalidMfaCode")
    expect(await count("plexi_webauthn_challenges", "user_id = $1", [user.userId])).toBe(challenges)
    const { challengeId } = ok(await webauthn(a.url).registrationOptions(user.accessToken))
    const hostile = { id: "a".repeat(5000), rawId: "a", type: "public-key", response: { clientDataJSON: "", attestationObject: "" }, clientExtensionResults: {} }
    refusedWith(await webauthn(a.url).register(user.accessToken, challengeId, hostile), 400, "HttpApiDecodeError")
    refusedWith(await webauthn(a.url).register(user.accessToken, challengeId, { ...hostile, id: "not base64url!" }), 400, "HttpApiDecodeError")
    const garbage = { ...hostile, id: "AAAA", rawId: "AAAA" }
    refusedWith(await webauthn(a.url).register(user.accessToken, challengeId, garbage), 400, "WebAuthnRegistrationRefused", "invalid")
    refusedWith(await webauthn(a.url).login("wc_unknown", { ...garbage, response: { clientDataJSON: "", authenticatorData: "", signature: "" } }), 401, "WebAuthnAuthenticationRefused", "challenge")
    expect(await count("plexi_webauthn_credentials", "user_id = $1", [user.userId])).toBe(0)
    // Another user cannot use this user's registration challenge.
    const other = await signUp()
    refusedWith(await webauthn(a.url).register(other.accessToken, challengeId, garbage), 400, "WebAuthnRegistrationRefused", "challenge")
  }, 60_000)
})

describe("WebAuthn without PLEXI_WEBAUTHN_RP_ID", () => {
  let node: NodeProcess

  beforeAll(async () => {
    node = await startNode({ name: "webauthn-off" })
  }, 60_000)

  afterAll(async () => {
    await node?.stop()
  })

  it("answers every ceremony with 403 WebAuthnDisabled, and lists no keys", async () => {
    const user = await authClient(node.url).signUp("nokeys", password)
    refusedWith(await webauthn(node.url).loginOptions(), 403, "WebAuthnDisabled")
    refusedWith(await webauthn(node.url).registrationOptions(user.accessToken), 403, "WebAuthnDisabled")
    expect((await webauthn(node.url).loginOptions()).headers.get("cache-control")).toBe("no-store")
    expect(ok(await webauthn(node.url).keys(user.accessToken))).toEqual([])
  })
})

describe.skipIf(missing !== undefined)("WebAuthn on an embedded node (PGlite, one connection)", () => {
  let node: NodeProcess
  let site: PageServer
  let browser: Chromium

  beforeAll(async () => {
    site = await servePage()
    ;[node, browser] = await Promise.all([
      startNode({ name: "webauthn-embedded", env: { PLEXI_WEBAUTHN_RP_ID: "localhost", PLEXI_WEBAUTHN_ORIGINS: site.origin() } }),
      launchChromium()
    ])
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await Promise.all([node?.stop(), site?.close()])
  })

  it("registers a key, signs in with it without a password, and refuses the replay", async () => {
    const tab = await ceremonyPage(browser, site.origin())
    const user = await authClient(node.url).signUp("pglite-key", password)
    const reg = ok(await webauthn(node.url).registrationOptions(user.accessToken))
    const key = ok(await webauthn(node.url).register(user.accessToken, reg.challengeId, await tab.create(reg.options)), 201)
    const login = ok(await webauthn(node.url).loginOptions())
    const response = await tab.get(login.options)
    expect(response.id).toBe(key.id)
    const [tokens, replay] = await Promise.all([
      webauthn(node.url).login(login.challengeId, response),
      webauthn(node.url).login(login.challengeId, response)
    ])
    expect([tokens.status, replay.status].sort()).toEqual([200, 401])
    expect(ok(await webauthn(node.url).keys(user.accessToken))[0].lastUsedAt).toBeGreaterThan(0)
    await tab.close()
  }, 60_000)
})

