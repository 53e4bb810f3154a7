/**
 * Revocation on the embedded single node (PGlite, no DATABASE_URL): it reads
 * the revocation table right after its own revocations (before the revoking
 * call answers; otherwise only once a minute), so a socket is closed (4003)
 * and the token is refused on every door at once. Account disable and enable
 * work the same as on Postgres, and the OpenAPI document lists them. A real
 * node process, real WebSockets.
 */
import { describe, expect, it } from "vitest"
import { authClient } from "../fixtures/AuthClient.ts"
import { WsClient } from "../fixtures/Clients.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"
import { admin, closedAfter, expectAccepted, expectRefused } from "../fixtures/RevocationChecks.ts"

const password = "a long and unusual passphrase"

describe("revocation on the embedded single node", () => {
  const node = nodeForSuite()

  it("ends sessions and disabled accounts on the open sockets and on every door, and lets an enabled account back in", async () => {
    const auth = authClient(node().url)
    const owner = await auth.signUp("em-owner", password)
    const alice = await auth.signUp("em-alice", password)
    const ws = await WsClient.connect(node().wsUrl, alice.accessToken)
    const latency = await closedAfter([ws], "session_revoked", async () => {
      expect((await auth.logout(alice.accessToken)).body).toEqual({ revoked: 1 })
    })
    console.log(`embedded: sign-out to close ${latency.toFixed(0)} ms`)
    await expectRefused(node(), alice.accessToken, "session revoked: sign in again")

    const again = await auth.signIn("em-alice", password)
    const sockets = [await WsClient.connect(node().wsUrl, again.accessToken)]
    await closedAfter(sockets, "account_disabled", async () => {
      expect((await admin(node(), owner.accessToken).disable(alice.userId)).body).toMatchObject({ disabled: true, revoked: 1 })
    })
    expect(await auth.login({ username: "em-alice", password })).toMatchObject({ status: 403, body: { _tag: "AccountDisabled" } })
    expect((await admin(node(), owner.accessToken).enable(alice.userId)).status).toBe(200)
    await expectAccepted(node(), (await auth.signIn("em-alice", password)).accessToken)
    await expectAccepted(node(), owner.accessToken)
  }, 60_000)

  it("lists the administration operations and their typed errors in the OpenAPI document", async () => {
    const doc = (await (await fetch(`${node().url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
    }
    for (const action of ["disable", "enable", "password"]) {
      const responses = Object.keys(doc.paths[`/api/v1/admin/users/{userId}/${action}`]!.post!.responses)
      expect(responses, action).toEqual(expect.arrayContaining(["200", "401", "403", "404", "503"]))
    }
    expect(Object.keys(doc.paths["/api/v1/auth/login"]!.post!.responses)).toContain("403")
    expect(Object.keys(doc.paths["/api/v1/auth/refresh"]!.post!.responses)).toContain("403")
  })
})
