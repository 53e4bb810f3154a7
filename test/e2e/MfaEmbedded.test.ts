/**
 * A single embedded node without PLEXI_AUTH_MFA_KEYS keeps the key of its
 * TOTP secrets in its data directory, so TOTP enrolled before a restart
 * still works after it (a key made anew at each start would lock every
 * authenticator out).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { authClient } from "../fixtures/AuthClient.ts"
import { authenticator, expectAnswer, mfaClient } from "../fixtures/MfaClient.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"

const password = "a long and unusual passphrase"

describe("MFA on a single embedded node", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "plexi-mfa-embedded-"))
  let node: NodeProcess | undefined

  afterAll(async () => {
    await node?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("makes its TOTP-secret key at first start (mode 0600) and keeps using it after a restart", async () => {
    node = await startNode({ name: "mfa-embedded-1", dataDir })
    const pair = await authClient(node.url).signUp("solo", password)
    const enrolment = expectAnswer(await mfaClient(node.url).enrol(pair.accessToken), 200, "enrol")
    const app = authenticator(enrolment.uri)
    expectAnswer(await mfaClient(node.url).confirm(pair.accessToken, app.now()), 200, "confirm")
    const keyFile = join(dataDir, "mfa-keys")
    const key = readFileSync(keyFile, "utf8")
    expect(key).toMatch(/^local=[0-9a-f]{64}\n$/)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    expect(node.output()).toContain("PLEXI_AUTH_MFA_KEYS is not set")
    await node.stop()

    node = await startNode({ name: "mfa-embedded-2", dataDir })
    expect(readFileSync(keyFile, "utf8")).toBe(key)
    const login = await authClient(node.url).login({ username: "solo", password })
    expect(login.body._tag).toBe("MfaRequired")
    // The step after the current one: later than the confirmation's, whatever the restart took.
    const next = Math.floor(Date.now() / 30_000) + 1
    const completed = await mfaClient(node.url).complete(login.body.challenge, app.at(next))
    expect(completed.status).toBe(200)
    expect(completed.body.username).toBe("solo")
  }, 120_000)
})
