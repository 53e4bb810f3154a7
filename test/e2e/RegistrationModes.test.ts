/**
 * PLEXI_AUTH_REGISTRATION closes sign-up: `first` lets only the first
 * account of an empty installation register (it becomes the owner),
 * `closed` lets nobody. Real node processes on the embedded store.
 */
import { describe, expect, it } from "vitest"
import { authClient } from "../fixtures/AuthClient.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

const password = "a long and unusual passphrase"

describe("registration: first account only", () => {
  const node = nodeForSuite({ env: { PLEXI_AUTH_REGISTRATION: "first" } })

  it("registers the owner, then refuses further accounts with 403 RegistrationClosed while the owner signs in", async () => {
    const auth = authClient(node().url)
    expect((await auth.signUp("founder", password)).role).toBe("owner")
    const second = await auth.register({ username: "second", password })
    expect(second.status).toBe(403)
    expect(second.body).toMatchObject({ _tag: "RegistrationClosed" })
    expect((await auth.login({ username: "second", password })).status).toBe(401)
    expect((await auth.signIn("founder", password)).role).toBe("owner")
  }, 30_000)
})

describe("registration: closed", () => {
  const node = nodeForSuite({ env: { PLEXI_AUTH_REGISTRATION: "closed" } })

  it("refuses every registration with 403 RegistrationClosed, even on an empty installation", async () => {
    const answer = await authClient(node().url).register({ username: "anyone", password })
    expect(answer.status).toBe(403)
    expect(answer.body).toEqual({ _tag: "RegistrationClosed", message: "registration is closed on this installation" })
  }, 30_000)
})
