/**
 * OpenID Connect sign-in end to end: a real provider process
 * (`oidc-provider`, test/fixtures/OidcProviderMain.ts) whose login and
 * consent pages the test fills in as a browser would, two real node
 * processes on one real Postgres, REST over fetch. Rows are checked in SQL
 * after every refusal: a refused callback writes nothing (its flow is spent).
 */
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, authClient, call } from "../fixtures/AuthClient.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { authorizeAt, type OidcTestProvider, startOidcProvider } from "../fixtures/OidcProvider.ts"
import { freePort, makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"

const password = "a long and unusual passphrase"
const clientSecret = "plexi-test-client-secret-0123456789"

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
    identities: await count("plexi_oidc_identities")
  })

  const start = async (node: NodeProcess) => {
    const answer = await call(node.url, "POST", "/auth/oidc/idp/start")
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.headers.get("cache-control")).toBe("no-store")
    return answer.body as { authorizationUrl: string; expiresAt: number }
  }

  /** The node's callback with the query the provider sent the browser back with. */
  const callback = (node: NodeProcess, returned: URL) => call(node.url, "GET", `/auth/oidc/idp/callback${returned.search}`)

  const expectFailed = (answer: Answer, reason: string) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(400)
    expect(answer.body).toMatchObject({ _tag: "OidcFailed", reason })
  }

  /** A sign-in whose flow row is changed by `statement` while the user is at the provider. */
  const callbackAfter = async (statement: string) => {
    const { authorizationUrl } = await start(a)
    const returned = await authorizeAt(authorizationUrl, "alice")
    await sql.query(statement)
    return callback(a, returned)
  }

  const signIn = async (login: string, node: NodeProcess = a) => {
    const { authorizationUrl } = await start(node)
    return callback(node, await authorizeAt(authorizationUrl, login))
  }

  beforeAll(async () => {
    db = await makeTestDatabase()
    expect(db.kind, "these tests need the real Postgres at 127.0.0.1:5432").toBe("postgres")
    idp = await startOidcProvider()
    const [portA, portB] = [await freePort(), await freePort()]
    // Both nodes send the browser back to node A's callback, as one public URL in front of a cluster would.
    const env = {
      PLEXI_OIDC_PROVIDERS: "idp",
      PLEXI_OIDC_IDP_NAME: "Test IdP",
      PLEXI_OIDC_IDP_ISSUER: idp.issuer,
      PLEXI_OIDC_IDP_CLIENT_ID: "plexichat",
      PLEXI_OIDC_IDP_CLIENT_SECRET: clientSecret,
      PLEXI_OIDC_IDP_ALLOW_HTTP: "true",
      PLEXI_PUBLIC_URL: `http://127.0.0.1:${portA}`
    }
    ;[a, b] = await Promise.all([
      startNode({ name: "oidc-a", databaseUrl: db.url, port: portA, env }),
      startNode({ name: "oidc-b", databaseUrl: db.url, port: portB, env })
    ])
    await idp.configure({
      clients: [{
        client_id: "plexichat",
        client_secret: clientSecret,
        redirect_uris: [`http://127.0.0.1:${portA}/api/v1/auth/oidc/idp/callback`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_post"
      }],
      accounts: {
        alice: { email: "alice@example.test", email_verified: true, preferred_username: "alice" },
        "bob-at-idp": { email: "bob@example.test", email_verified: true, preferred_username: "bobby" },
        mallory: { email: "victim@example.test", email_verified: false, preferred_username: "mallory" },
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
    expect(answer.body).toEqual([{ id: "idp", name: "Test IdP" }])
  })

  it("sends the user to the provider with PKCE (S256), state and nonce", async () => {
    const { authorizationUrl, expiresAt } = await start(a)
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
    expect(await counts()).toEqual({ accounts: before.accounts + 1, sessions: before.sessions + 1, identities: before.identities + 1 })
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
  })

  it("refuses a password sign-in for an account made by OIDC", async () => {
    const login = await authClient(a.url).login({ username: "alice", password: "!" })
    expect(login.status).toBe(401)
    expect(login.body._tag).toBe("InvalidCredentials")
  })

  it("signs in to the account with the same verified email", async () => {
    const bob = await authClient(a.url).register({ username: "bob", password, email: "bob@example.test" })
    expect(bob.status).toBe(201)
    const viaIdp = await signIn("bob-at-idp")
    expect(viaIdp.status, JSON.stringify(viaIdp.body)).toBe(200)
    expect(viaIdp.body.userId).toBe(bob.body.userId)
    expect(viaIdp.body.username).toBe("bob")
  })

  it("never links by an unverified email: a new account, without the address", async () => {
    const victim = await authClient(a.url).register({ username: "victim", password, email: "victim@example.test" })
    expect(victim.status).toBe(201)
    const attacker = await signIn("mallory")
    expect(attacker.status, JSON.stringify(attacker.body)).toBe(200)
    expect(attacker.body.userId).not.toBe(victim.body.userId)
    const stored = await sql.query("SELECT email FROM plexi_accounts WHERE user_id = $1", [attacker.body.userId])
    expect(stored.rows[0].email).toBeNull()
  })

  it("refuses a replayed callback, and writes nothing", async () => {
    const { authorizationUrl } = await start(a)
    const returned = await authorizeAt(authorizationUrl, "alice")
    expect((await callback(a, returned)).status).toBe(200)
    const before = await counts()
    expectFailed(await callback(b, returned), "unknown_state")
    expect(await counts()).toEqual(before)
  })

  it("refuses a declined sign-in, a forged code, a changed nonce and an expired flow, each typed and writing nothing", async () => {
    const before = await counts()

    const declined = await start(a)
    const back = await authorizeAt(declined.authorizationUrl, "alice", { decline: true })
    expect(back.searchParams.get("error")).toBe("access_denied")
    expectFailed(await callback(a, back), "provider_error")

    const forged = await start(a)
    const state = new URL(forged.authorizationUrl).searchParams.get("state")!
    expectFailed(
      await call(a.url, "GET", `/auth/oidc/idp/callback?code=forged-code&state=${state}&iss=${encodeURIComponent(idp.issuer)}`),
      "rejected"
    )
    // The ID token's nonce no longer matches the flow's.
    expectFailed(await callbackAfter("UPDATE plexi_oidc_flows SET nonce = 'another-nonce'"), "rejected")
    expectFailed(await callbackAfter("UPDATE plexi_oidc_flows SET expires_at = 0"), "expired")

    expectFailed(await call(a.url, "GET", "/auth/oidc/idp/callback?code=x"), "unknown_state")
    const hostile = await call(a.url, "GET", `/auth/oidc/idp/callback?state=${"s".repeat(5000)}`)
    expect(hostile.status).toBe(400)

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
    expectFailed(await callback(a, returned), "unknown_state")
    const params = Object.fromEntries(returned.searchParams)
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
      Object.fromEntries((await authorizeAt(again.body.authorizationUrl, "carol-at-idp")).searchParams),
      dave.accessToken
    )
    expect(taken.status).toBe(409)
    expect(taken.body._tag).toBe("OidcIdentityTaken")

    const unlinked = await call(a.url, "DELETE", "/auth/oidc/identities/idp", undefined, carol.accessToken)
    expect(unlinked.body).toEqual({ unlinked: 1 })
    expect((await call(a.url, "GET", "/auth/oidc/identities", undefined, carol.accessToken)).body).toEqual([])
    expect((await call(a.url, "POST", "/auth/oidc/idp/link", undefined)).status).toBe(401)
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
