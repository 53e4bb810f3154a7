/**
 * The node's logs never carry a secret: a node on Postgres with every
 * secret setting given (signing keys, TOTP-secret keys, the metrics token, a
 * database password), driven through sign-up, sign-in (right and wrong
 * passwords), a token refresh, WebSocket sign-in by query and by frame, a
 * bad token, posts and a scrape, at `Debug`, in both log formats, with every
 * post traced over OTLP. None of the secret values may appear anywhere in
 * its output or in what it exported; `json` lines are one
 * JSON object each, with the node's id.
 */
import { afterAll, describe, expect, it } from "vitest"
import { authClient } from "../fixtures/AuthClient.ts"
import { rest, WsClient } from "../fixtures/Clients.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { scrape } from "../fixtures/PrometheusScrape.ts"
import { makeTestDatabase, type TestDatabase } from "../fixtures/TestDatabase.ts"
import { type OtlpReceiver, startOtlpReceiver } from "../fixtures/OtlpReceiver.ts"

const signingSecret = "signing-secret-value-4f1c9a7e2b6d8c0e5a3f"
const mfaSecret = "mfa-secret-value-9d2e7b4c1a6f3e8d0b5c"
const metricsToken = "metrics-token-value-7a3e9c1f5b"
const dbPassword = "db-password-value-2c8e4a6f"
const password = "user passphrase value 6e1b3d9f"
const wrongPassword = "wrong passphrase value 8a2c4e6b"

/** The database URL with a password (the test server trusts loopback, so it is carried but not checked). */
const withPassword = (url: string) => url.replace(/^(postgres(?:ql)?:\/\/[^:@/]+)@/, `$1:${dbPassword}@`)

/** Everything a client did that handed the node a secret; the tokens it got back are secrets too. */
const drive = async (node: NodeProcess) => {
  const auth = authClient(node.url)
  const registered = await auth.signUp("alice", password)
  expect((await auth.login({ username: "alice", password: wrongPassword })).status).toBe(401)
  const signedIn = await auth.signIn("alice", password, "laptop")
  const refreshed = await auth.refresh(signedIn.refreshToken)
  expect(refreshed.status).toBe(200)
  const fresh = refreshed.body as { accessToken: string; refreshToken: string }
  const { id: channelId } = await rest(node.url, fresh.accessToken).createChannel("redaction")

  const byQuery = await WsClient.connect(node.wsUrl, fresh.accessToken)
  await byQuery.waitFor((f) => f.type === "hello")
  expect(await byQuery.request({ type: "subscribe", channelId })).toMatchObject({ type: "subscribed" })
  for (let i = 0; i < 3; i++) {
    expect(await byQuery.request({ type: "post", channelId, clientMsgId: `r${i}`, body: `message ${i}` })).toMatchObject({ type: "ack" })
  }
  const byFrame = await WsClient.connect(node.wsUrl)
  await byFrame.waitFor((f) => f.type === "hello")
  expect(await byFrame.request({ type: "auth", token: `${registered.accessToken}x` })).toMatchObject({ code: "unauthorized" })
  expect(await byFrame.request({ type: "auth", token: signedIn.accessToken })).toMatchObject({ type: "authenticated" })
  expect((await fetch(`${node.url}/metrics`, { headers: { authorization: "Bearer not-the-token" } })).status).toBe(401)
  expect((await scrape(node.url, metricsToken)).has("plexichat_messages_posted_total")).toBe(true)
  expect((await fetch(`${node.url}/api/v1/me`, { headers: { authorization: `Bearer ${fresh.refreshToken}` } })).status).toBe(401)
  byQuery.socket.close()
  byFrame.socket.close()
  return [registered.accessToken, registered.refreshToken, signedIn.accessToken, signedIn.refreshToken, fresh.accessToken, fresh.refreshToken]
}

describe.each(["json", "pretty"] as const)("a node logging %s at Debug", (format) => {
  let db: TestDatabase | undefined
  let node: NodeProcess | undefined
  let receiver: OtlpReceiver | undefined

  afterAll(async () => {
    await node?.stop()
    await db?.drop()
    await receiver?.close()
  })

  it("writes none of the secrets it was given or handed to its output", async () => {
    db = await makeTestDatabase()
    receiver = await startOtlpReceiver()
    node = await startNode({
      databaseUrl: withPassword(db.url),
      env: {
        PLEXI_LOG_FORMAT: format,
        PLEXI_LOG_LEVEL: "Debug",
        PLEXI_AUTH_SIGNING_KEYS: `k1=${signingSecret}`,
        PLEXI_AUTH_MFA_KEYS: `m1=${mfaSecret}`,
        PLEXI_METRICS_TOKEN: metricsToken,
        // Every post traced and everything exported: the telemetry must not carry a secret either.
        PLEXI_OTEL_ENDPOINT: receiver.url,
        PLEXI_OTEL_SAMPLE_RATIO: "1",
        PLEXI_OTEL_METRICS_INTERVAL: "200 millis"
      }
    })
    const tokens = await drive(node)
    await node.stop()
    const output = node.output()
    expect(output).toContain("listening on")
    const exported = JSON.stringify([receiver.traces, receiver.metrics])
    expect(receiver.traces.length).toBeGreaterThan(0)
    for (const secret of [signingSecret, mfaSecret, metricsToken, dbPassword, password, wrongPassword, ...tokens]) {
      expect(output.includes(secret), `a secret (${secret.slice(0, 12)}…) is in the output`).toBe(false)
      expect(exported.includes(secret), `a secret (${secret.slice(0, 12)}…) was exported`).toBe(false)
    }
    if (format === "json") {
      const lines = output.split("\n").filter((line) => line.startsWith("{"))
      expect(lines.length).toBeGreaterThan(3)
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ nodeId: node.name, logLevel: expect.any(String) })
    } else {
      expect(output).toContain(`nodeId: ${node.name}`)
    }
  }, 90_000)
})
