/**
 * The per-address budgets of the token-less doors that store a row per call:
 * passwordless WebAuthn options (a challenge each) and OIDC sign-in starts (a
 * flow each), on REST and RPC, over two real node processes on one real
 * Postgres (the buckets are rows there, so the budget is the cluster's).
 * Past the budget the answer is `RateLimited` (REST: 429 with `Retry-After`)
 * and no further row is stored, counted in SQL.
 */
import type pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, call } from "../fixtures/AuthClient.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { type OidcTestProvider, startOidcProvider } from "../fixtures/OidcProvider.ts"
import { failure, ok, rpc } from "../fixtures/RpcCalls.ts"
import { freePort, makeTestDatabase, sqlClientOf, type TestDatabase } from "../fixtures/TestDatabase.ts"

const BURST = 4

const limited = (answer: Answer) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(429)
  expect(answer.body._tag).toBe("RateLimited")
  expect(answer.body.retryAfterMs).toBeGreaterThan(0)
  expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
}

describe("per-address budgets of WebAuthn sign-in options and OIDC starts, over two nodes", () => {
  let db: TestDatabase
  let idp: OidcTestProvider
  let a: NodeProcess
  let b: NodeProcess
  let sql: pg.Client
  const count = async (table: string) => Number((await sql.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)

  beforeAll(async () => {
    db = await makeTestDatabase()
    expect(db.kind, "these tests need the real Postgres at 127.0.0.1:5432").toBe("postgres")
    sql = await sqlClientOf(db)
    idp = await startOidcProvider()
    const portA = await freePort()
    const env = {
      PLEXI_WEBAUTHN_RP_ID: "localhost",
      PLEXI_OIDC_PROVIDERS: "idp",
      PLEXI_OIDC_IDP_ISSUER: idp.issuer,
      PLEXI_OIDC_IDP_CLIENT_ID: "plexichat",
      PLEXI_OIDC_IDP_CLIENT_SECRET: "plexi-test-client-secret-0123456789",
      PLEXI_OIDC_IDP_ALLOW_HTTP: "true",
      PLEXI_PUBLIC_URL: `http://127.0.0.1:${portA}`,
      // A burst, and no refill within a test.
      PLEXI_WEBAUTHN_OPTIONS_IP_BURST: String(BURST),
      PLEXI_WEBAUTHN_OPTIONS_IP_REFILL: "1 hours",
      PLEXI_OIDC_START_IP_BURST: String(BURST),
      PLEXI_OIDC_START_IP_REFILL: "1 hours"
    }
    ;[a, b] = await Promise.all([
      startNode({ name: "tokenless-a", databaseUrl: db.url, port: portA, env }),
      startNode({ name: "tokenless-b", databaseUrl: db.url, env })
    ])
    await idp.configure({
      clients: [{
        client_id: "plexichat",
        client_secret: "plexi-test-client-secret-0123456789",
        redirect_uris: [`http://127.0.0.1:${portA}/api/v1/auth/oidc/idp/callback`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_post"
      }],
      accounts: {}
    })
  }, 120_000)

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), idp?.stop(), sql?.end()])
    await db?.drop()
  })

  it("answers RateLimited past the address's WebAuthn options budget, on REST and RPC and either node, storing no further challenge", async () => {
    const options = (node: NodeProcess) => call(node.url, "POST", "/auth/webauthn/login/options")
    // The budget spent over both nodes and both doors.
    expect((await options(a)).status).toBe(200)
    expect((await ok(rpc(b, (c) => c.WebAuthnLoginOptions({})))).challengeId).toMatch(/^wc_/)
    expect((await options(b)).status).toBe(200)
    expect((await ok(rpc(a, (c) => c.WebAuthnLoginOptions({})))).challengeId).toMatch(/^wc_/)
    expect(await count("plexi_webauthn_challenges")).toBe(BURST)

    limited(await options(a))
    limited(await options(b))
    const refused = await failure(rpc(b, (c) => c.WebAuthnLoginOptions({})))
    expect(refused._tag).toBe("RateLimited")
    expect(refused._tag === "RateLimited" && refused.retryAfterMs).toBeGreaterThan(0)
    expect(await count("plexi_webauthn_challenges")).toBe(BURST)
    const bucket = await sql.query("SELECT tokens FROM plexi_rate_buckets WHERE name = 'webauthn_options'")
    expect(bucket.rows.length).toBe(1)
    expect(Number(bucket.rows[0].tokens)).toBeLessThan(1)
  }, 60_000)

  it("answers RateLimited past the address's OIDC start budget, on REST and RPC and either node, storing no further flow", async () => {
    const start = (node: NodeProcess) => call(node.url, "POST", "/auth/oidc/idp/start")
    expect((await start(a)).status).toBe(200)
    expect((await ok(rpc(b, (c) => c.OidcStart({ provider: "idp" })))).authorizationUrl).toContain(idp.issuer)
    expect((await start(b)).status).toBe(200)
    expect((await ok(rpc(a, (c) => c.OidcStart({ provider: "idp" })))).binding.length).toBeGreaterThan(0)
    expect(await count("plexi_oidc_flows")).toBe(BURST)

    limited(await start(b))
    limited(await start(a))
    const refused = await failure(rpc(a, (c) => c.OidcStart({ provider: "idp" })))
    expect(refused._tag).toBe("RateLimited")
    expect(await count("plexi_oidc_flows")).toBe(BURST)
    // An unknown provider is refused as before, before the budget is asked.
    expect((await call(a.url, "POST", "/auth/oidc/nobody/start")).body._tag).toBe("OidcProviderNotFound")
  }, 60_000)
})
