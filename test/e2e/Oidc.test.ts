/**
 * OpenID Connect sign-in end to end: a real provider process
 * (`oidc-provider`, test/fixtures/OidcProviderMain.ts) whose login and
 * consent pages the test fills in as a browser would, two real node
 * processes on one real Postgres, REST over fetch. Rows are checked in SQL
 * after every refusal: a refused callback writes nothing (its flow is spent).
 */
import { createHash } from "node:crypto"
import { Effect, Either } from "effect"
import { PlexiClient } from "plexichat/client"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { type Answer, authClient, call } from "../fixtures/AuthClient.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { authenticator, expectAnswer, mfaClient } from "../fixtures/MfaClient.ts"
import { authorizeAt, clientAt, type OidcTestProvider, providerEnv, startOidcProvider } from "../fixtures/OidcProvider.ts"
import { freePort, makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const password = "a long and unusual passphrase"

interface Started {
  readonly authorizationUrl: string
  readonly expiresAt: number
  readonly binding: string
}

describe("OpenID Connect sign-in", () => {
  let db: TestDatabase
  let idp: OidcTestProvider
  let a: NodeProcess
  let b: NodeProcess
  let sql: pg.Client
  const count = async (table: string) => Number((await sql.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)
  const counts = async () => ({
    accounts: await count("plexi_accounts"),
    sessions: await count("plexi_sessions"),
    identities: await count("plexi_oidc_identities"),
    flows: await count("plexi_oidc_flows")
  })

  const start = async (node: NodeProcess, provider = "idp") => {
    const answer = await call(node.url, "POST", `/auth/oidc/${provider}/start`)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.headers.get("cache-control")).toBe("no-store")
    return answer.body as Started
  }

  /** The node's callback with the query the provider sent the browser back with, and the start's binding. */
  const callback = (node: NodeProcess, returned: URL, binding: string, provider = "idp") =>
    call(node.url, "GET", `/auth/oidc/${provider}/callback${returned.search}&binding=${encodeURIComponent(binding)}`)

  /** Started and taken through the provider's pages as `login`: what the client then holds. */
  const authorized = async (login: string, node: NodeProcess = a, provider = "idp") => {
    const started = await start(node, provider)
    return { ...started, returned: await authorizeAt(started.authorizationUrl, login) }
  }

  const expectFailed = (answer: Answer, reason: string) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(400)
    expect(answer.body).toMatchObject({ _tag: "OidcFailed", reason })
  }

  /** A sign-in whose flow row is changed by `assignment` (`SET …`) while the user is at the provider. */
  const callbackAfter = async (assignment: string) => {
    const { binding, returned } = await authorized("alice")
    const stateHash = createHash("sha256").update(returned.searchParams.get("state")!).digest("hex")
    const changed = await sql.query(`UPDATE plexi_oidc_flows SET ${assignment} WHERE state_hash = $1`, [stateHash])
    expect(changed.rowCount).toBe(1)
    return callback(a, returned, binding)
  }

  const signIn = async (login: string, node: NodeProcess = a, provider = "idp") => {
    const { binding, returned } = await authorized(login, node, provider)
    return callback(node, returned, binding, provider)
  }

  /** A password account with `email`, then an OIDC sign-in as `login` claiming it: another account, without the address. */
  const expectSeparateAccount = async (username: string, email: string, login: string) => {
    const registered = await authClient(a.url).register({ username, password, email })
    expect(registered.status).toBe(201)
    const viaIdp = await signIn(login)
    expect(viaIdp.status, JSON.stringify(viaIdp.body)).toBe(200)
    expect(viaIdp.body.userId).not.toBe(registered.body.userId)
    const stored = await sql.query("SELECT email FROM plexi_accounts WHERE user_id = $1", [viaIdp.body.userId])
    expect(stored.rows[0].email).toBeNull()
    const linked = await sql.query("SELECT count(*)::int AS n FROM plexi_oidc_identities WHERE user_id = $1", [registered.body.userId])
    expect(linked.rows[0].n).toBe(0)
  }

  beforeAll(async () => {
    db = await makeTestDatabase()
    expect(db.kind, "these tests need the real Postgres at 127.0.0.1:5432").toBe("postgres")
    idp = await startOidcProvider()
    const [portA, portB] = [await freePort(), await freePort()]
    // Both nodes send the browser back to node A's callback, as one public URL in front of a cluster would.
    // `other` is a second provider (another client of the same provider process), for linking across providers.
    const env = {
      PLEXI_OIDC_PROVIDERS: "idp,other",
      ...providerEnv("other", idp.issuer, "plexichat-other"),
      PLEXI_OIDC_IDP_NAME: "Test IdP",
      ...providerEnv("idp", idp.issuer, "plexichat"),
      PLEXI_PUBLIC_URL: `http://127.0.0.1:${portA}`
    }
    ;[a, b] = await Promise.all([
      startNode({ name: "oidc-a", databaseUrl: db.url, port: portA, env }),
      startNode({ name: "oidc-b", databaseUrl: db.url, port: portB, env })
    ])
    await idp.configure({
      clients: [clientAt("plexichat", `http://127.0.0.1:${portA}`, "idp"), clientAt("plexichat-other", `http://127.0.0.1:${portA}`, "other")],
      accounts: {
        alice: { email: "alice@example.test", email_verified: true, preferred_username: "alice" },
        "bob-at-idp": { email: "Bob@Example.test", email_verified: true, preferred_username: "bobby" },
        "bob-again": { email: "bob@example.test", email_verified: true, preferred_username: "bob-again" },
        mallory: { email: "victim@example.test", email_verified: false, preferred_username: "mallory" },
        "carl-at-idp": { email: "carl@example.test", email_verified: true, preferred_username: "carl" },
        "erin-at-idp": { preferred_username: "erin" },
        "rpc-user": { email: "rpc@example.test", email_verified: true, preferred_username: "rpc-user" },
        "twin-tabs": { preferred_username: "twin" },
        "frank-at-idp": { preferred_username: "frank" },
        "carol-at-idp": { preferred_username: "carol-idp" },
        "dave-at-idp": { preferred_username: "dave-idp" }
      }
    })
    sql = new pg.Client({ connectionString: db.url })
    await sql.connect()
  }, 120_000)

  afterAll(async () => {
    await sql?.end()
    await Promise.all([a?.stop(), b?.stop(), idp?.stop()])
    await db?.drop()
  })

  it("lists the configured providers", async () => {
    const answer = await call(a.url, "GET", "/auth/oidc/providers")
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual([{ id: "idp", name: "Test IdP" }, { id: "other", name: "other" }])
  })

  it("sends the user to the provider with PKCE (S256), state and nonce", async () => {
    const { authorizationUrl, binding, expiresAt } = await start(a)
    expect(binding).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(authorizationUrl).not.toContain(binding)
    const url = new URL(authorizationUrl)
    expect(url.origin).toBe(idp.issuer)
    expect(url.searchParams.get("response_type")).toBe("code")
    expect(url.searchParams.get("client_id")).toBe("plexichat")
    expect(url.searchParams.get("code_challenge_method")).toBe("S256")
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(url.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(url.searchParams.get("nonce")).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(url.searchParams.get("scope")).toBe("openid email profile")
    expect(expiresAt).toBeGreaterThan(Date.now())
  })

  it("creates an account on first sign-in, signs the same account in afterwards, on either node", async () => {
    const before = await counts()
    const first = await signIn("alice")
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    expect(first.headers.get("cache-control")).toBe("no-store")
    expect(first.body).toMatchObject({ tokenType: "Bearer", username: "alice" })
    expect(await counts()).toEqual({
      accounts: before.accounts + 1,
      sessions: before.sessions + 1,
      identities: before.identities + 1,
      flows: before.flows
    })
    const me = await call(b.url, "GET", "/me", undefined, first.body.accessToken)
    expect(me.status).toBe(200)
    expect(me.body.id).toBe(first.body.userId)

    // Started on node B, completed on node A (the redirect URI): the flow is in Postgres.
    const again = await signIn("alice", b)
    expect(again.status, JSON.stringify(again.body)).toBe(200)
    expect(again.body.userId).toBe(first.body.userId)
    expect((await counts()).accounts).toBe(before.accounts + 1)

    const identities = await call(a.url, "GET", "/auth/oidc/identities", undefined, first.body.accessToken)
    expect(identities.body).toEqual([
      { provider: "idp", subject: "alice", email: "alice@example.test", linkedAt: expect.any(Number) }
    ])
    const stored = await sql.query("SELECT password_hash, email FROM plexi_accounts WHERE user_id = $1", [first.body.userId])
    expect(stored.rows[0]).toEqual({ password_hash: "!", email: "alice@example.test" })
    // Audited: the registration and the later sign-in, with their method.
    await vi.waitFor(async () => {
      const audit = await sql.query("SELECT action, details FROM plexi_audit_log WHERE actor = $1 ORDER BY seq", [first.body.userId])
      expect(audit.rows.map((r) => r.action)).toEqual(["auth.register", "auth.login"])
      expect(JSON.parse(audit.rows[1].details)).toMatchObject({ method: "oidc" })
    }, { timeout: 15_000 })
  })

  it("gives an account made by OIDC no password: sign-in and password change refuse any", async () => {
    const erin = await signIn("erin-at-idp")
    expect(erin.status, JSON.stringify(erin.body)).toBe(200)
    for (const attempt of ["!", "", password]) {
      const login = await authClient(a.url).login({ username: erin.body.username, password: attempt })
      expect(login.status).toBe(401)
      expect(login.body._tag).toBe("InvalidCredentials")
    }
    const change = await authClient(a.url).changePassword(erin.body.accessToken, "!", "a brand new passphrase")
    expect(change.status).toBe(401)
    expect(change.body._tag).toBe("InvalidCredentials")
  })

  it("links by email only an email a provider verified before, never one typed at registration", async () => {
    // An account made by an OIDC sign-in has its provider-verified email marked verified...
    const bob = await signIn("bob-at-idp")
    expect(bob.status, JSON.stringify(bob.body)).toBe(200)
    const stored = await sql.query("SELECT email, email_verified FROM plexi_accounts WHERE user_id = $1", [bob.body.userId])
    expect(stored.rows[0]).toEqual({ email: "Bob@Example.test", email_verified: true })
    // ...so another provider's identity with the same verified email (in another case) signs in to it, and is linked.
    const again = await signIn("bob-again", a, "other")
    expect(again.status, JSON.stringify(again.body)).toBe(200)
    expect(again.body.userId).toBe(bob.body.userId)

    // Pre-hijack: someone registers with the victim's address first; the victim's verified sign-in is not theirs.
    await expectSeparateAccount("squatter", "carl@example.test", "carl-at-idp")
  })

  it("never links by an unverified email: a new account, without the address", async () => {
    await expectSeparateAccount("victim", "victim@example.test", "mallory")
  })

  it("completes a flow only with the binding of the client that started it, and spends nothing otherwise", async () => {
    const { binding, returned } = await authorized("alice")
    const before = await counts()
    // The redirect alone (an intercepted code and state, or an attacker's own redirect sent to a victim) does nothing.
    expectFailed(await call(a.url, "GET", `/auth/oidc/idp/callback${returned.search}`), "unknown_state")
    expectFailed(await callback(b, returned, "x".repeat(43)), "unknown_state")
    expect(await counts()).toEqual(before)
    const done = await callback(b, returned, binding)
    expect(done.status, JSON.stringify(done.body)).toBe(200)
  })

  it("lets one of two concurrent completions with one state win, on two nodes", async () => {
    const { binding, returned } = await authorized("alice")
    const answers = await Promise.all([callback(a, returned, binding), callback(b, returned, binding)])
    expect(answers.map((x) => x.status).sort()).toEqual([200, 400])
  })

  it("signs in a first-time identity once when two completions of it race", async () => {
    const [one, two] = await Promise.all([authorized("twin-tabs"), authorized("twin-tabs", b)])
    const answers = await Promise.all([callback(a, one.returned, one.binding), callback(b, two.returned, two.binding)])
    expect(answers.map((x) => x.status), JSON.stringify(answers.map((x) => x.body))).toEqual([200, 200])
    expect(answers[0]!.body.userId).toBe(answers[1]!.body.userId)
    const identities = await sql.query("SELECT count(*)::int AS n FROM plexi_oidc_identities WHERE subject = 'twin-tabs'")
    expect(identities.rows[0].n).toBe(1)
  })

  it("signs in over the typed RPC client too", async () => {
    const run = <A, E>(f: (c: PlexiClient["Type"]) => Effect.Effect<A, E>) =>
      Effect.runPromise(Effect.flatMap(PlexiClient, f).pipe(Effect.either, Effect.provide(PlexiClient.layer({ url: b.url }))))
    const started = await run((c) => c.OidcStart({ provider: "idp" }))
    if (Either.isLeft(started)) throw new Error(JSON.stringify(started.left))
    const returned = await authorizeAt(started.right.authorizationUrl, "rpc-user")
    const params = Object.fromEntries(returned.searchParams)
    const signedIn = await run((c) => c.OidcComplete({ provider: "idp", ...params, binding: started.right.binding }))
    if (Either.isLeft(signedIn)) throw new Error(JSON.stringify(signedIn.left))
    expect(signedIn.right.username).toBe("rpc-user")
    const replay = await run((c) => c.OidcComplete({ provider: "idp", ...params, binding: started.right.binding }))
    expect(Either.isLeft(replay) && replay.left).toMatchObject({ _tag: "OidcFailed", reason: "unknown_state" })
  })

  it("refuses a replayed callback, and writes nothing", async () => {
    const { binding, returned } = await authorized("alice")
    expect((await callback(a, returned, binding)).status).toBe(200)
    const before = await counts()
    expectFailed(await callback(b, returned, binding), "unknown_state")
    expect(await counts()).toEqual(before)
  })

  it("refuses a declined sign-in, a forged code, a changed nonce and an expired flow, each typed and writing nothing", async () => {
    const before = await counts()

    const declined = await start(a)
    const back = await authorizeAt(declined.authorizationUrl, "alice", { decline: true })
    expect(back.searchParams.get("error")).toBe("access_denied")
    const refused = await callback(a, back, declined.binding)
    expectFailed(refused, "provider_error")
    expect(refused.body.message).toBe("the provider answered access_denied")

    const forged = await start(a)
    const state = new URL(forged.authorizationUrl).searchParams.get("state")!
    const iss = encodeURIComponent(idp.issuer)
    expectFailed(
      await call(a.url, "GET", `/auth/oidc/idp/callback?code=forged-code&state=${state}&iss=${iss}&binding=${forged.binding}`),
      "rejected"
    )
    // The ID token's nonce no longer matches the flow's.
    expectFailed(await callbackAfter("nonce = 'another-nonce'"), "rejected")
    expectFailed(await callbackAfter("expires_at = 0"), "expired")

    expectFailed(await call(a.url, "GET", "/auth/oidc/idp/callback?code=x"), "unknown_state")
    const hostile = await call(a.url, "GET", `/auth/oidc/idp/callback?state=${"s".repeat(5000)}`)
    expect(hostile.status).toBe(400)

    // Nothing written, and each refused callback spent its flow.
    expect(await counts()).toEqual(before)
  })

  it("answers 404 for a provider that is not configured", async () => {
    const answer = await call(a.url, "POST", "/auth/oidc/nope/start")
    expect(answer.status).toBe(404)
    expect(answer.body).toEqual({ _tag: "OidcProviderNotFound", provider: "nope" })
    expect((await call(a.url, "POST", "/auth/oidc/Not_An_Id/start")).status).toBe(400)
  })

  it("links an identity to a signed-in account, only with that account's token, and unlinks it", async () => {
    const carol = await authClient(a.url).signUp("carol", password)
    const dave = await authClient(a.url).signUp("dave", password)
    const started = await call(a.url, "POST", "/auth/oidc/idp/link", undefined, carol.accessToken)
    expect(started.status, JSON.stringify(started.body)).toBe(200)
    const returned = await authorizeAt(started.body.authorizationUrl, "carol-at-idp")

    // The public callback does not complete (or spend) a link flow, and another account cannot either.
    expectFailed(await callback(a, returned, started.body.binding), "unknown_state")
    const params = { ...Object.fromEntries(returned.searchParams), binding: started.body.binding }
    expectFailed(await call(b.url, "POST", "/auth/oidc/idp/link/complete", params, dave.accessToken), "unknown_state")

    const linked = await call(b.url, "POST", "/auth/oidc/idp/link/complete", params, carol.accessToken)
    expect(linked.status, JSON.stringify(linked.body)).toBe(200)
    expect(linked.body).toEqual({
      _tag: "OidcLinked",
      identity: { provider: "idp", subject: "carol-at-idp", email: null, linkedAt: expect.any(Number) }
    })
    const viaIdp = await signIn("carol-at-idp")
    expect(viaIdp.body.userId).toBe(carol.userId)

    // The same identity cannot be linked to dave as well.
    const again = await call(a.url, "POST", "/auth/oidc/idp/link", undefined, dave.accessToken)
    const taken = await call(
      a.url,
      "POST",
      "/auth/oidc/idp/link/complete",
      { ...Object.fromEntries((await authorizeAt(again.body.authorizationUrl, "carol-at-idp")).searchParams), binding: again.body.binding },
      dave.accessToken
    )
    expect(taken.status).toBe(409)
    expect(taken.body._tag).toBe("OidcIdentityTaken")

    const unlinked = await call(a.url, "DELETE", "/auth/oidc/identities/idp", undefined, carol.accessToken)
    expect(unlinked.body).toEqual({ unlinked: 1 })
    expect((await call(a.url, "GET", "/auth/oidc/identities", undefined, carol.accessToken)).body).toEqual([])
    expect((await call(a.url, "POST", "/auth/oidc/idp/link", undefined)).status).toBe(401)
  })

  it("asks an account with MFA on for its second factor after an OIDC sign-in too", async () => {
    const first = await signIn("frank-at-idp")
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    const mfa = mfaClient(a.url)
    const enrolled = expectAnswer(await mfa.enrol(first.body.accessToken), 200, "enrol")
    const confirmed = expectAnswer(await mfa.confirm(first.body.accessToken, authenticator(enrolled.uri).now()), 200, "confirm")
    const sessions = await count("plexi_sessions")
    const second = await signIn("frank-at-idp")
    expect(second.status, JSON.stringify(second.body)).toBe(401)
    expect(second.body._tag).toBe("MfaRequired")
    expect(await count("plexi_sessions")).toBe(sessions)
    const completed = await mfaClient(b.url).complete(second.body.challenge, confirmed.backupCodes[0])
    expect(completed.status, JSON.stringify(completed.body)).toBe(200)
    expect(completed.body.userId).toBe(first.body.userId)
  })

  it("refuses to unlink an account's only way to sign in", async () => {
    const dave = await signIn("dave-at-idp")
    expect(dave.status).toBe(200)
    const refused = await call(a.url, "DELETE", "/auth/oidc/identities/idp", undefined, dave.body.accessToken)
    expect(refused.status).toBe(403)
    expect(refused.body._tag).toBe("Forbidden")
    expect((await call(a.url, "GET", "/auth/oidc/identities", undefined, dave.body.accessToken)).body).toHaveLength(1)
  })
})
