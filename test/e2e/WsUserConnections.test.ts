/**
 * WebSockets per user on one node (PLEXI_WS_MAX_CONNECTIONS_PER_USER): an
 * upgrade with the token of a user at the limit gets HTTP 429, an `auth`
 * frame gets `too_many_connections` with its ref (the socket stays open,
 * unauthenticated), and a slot freed by a close can be used again. Another
 * user is not affected.
 */
import { request } from "node:http"
import { describe, expect, it } from "vitest"
import { authClient } from "../fixtures/AuthClient.ts"
import { WsClient } from "../fixtures/Clients.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

/** The HTTP answer to a WebSocket upgrade request that the node refuses. */
const upgradeAnswer = (url: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, {
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" }
    }, (res) => {
      let body = ""
      res.on("data", (c: Buffer) => (body += c.toString()))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on("upgrade", () => reject(new Error("the upgrade was accepted")))
    req.on("error", reject)
    req.end()
  })

describe("WebSockets per user", () => {
  const node = nodeForSuite({ env: { PLEXI_WS_MAX_CONNECTIONS_PER_USER: "3" } })

  it("refuses a 4th socket of one user at upgrade and at auth, and takes it once one closed", async () => {
    const auth = authClient(node().url)
    const me = await auth.signUp("many-tabs", "correct horse battery")
    const other = await auth.signUp("one-tab", "correct horse battery")
    const open = await Promise.all([0, 1, 2].map(() => WsClient.connect(node().wsUrl, me.accessToken)))
    await expect(WsClient.connect(node().wsUrl, me.accessToken)).rejects.toThrow("upgrade refused: 429")
    const refused = await upgradeAnswer(`${node().url}/ws?token=${me.accessToken}`)
    expect(refused.status).toBe(429)
    expect(JSON.parse(refused.body)).toMatchObject({ _tag: "TooManyConnections", limit: "connections_per_user" })

    const late = await WsClient.connect(node().wsUrl)
    const answer = await late.request({ type: "auth", token: me.accessToken })
    expect(answer).toMatchObject({ type: "error", code: "too_many_connections" })
    // Still open and unauthenticated: other frames are refused as before authentication.
    expect(await late.request({ type: "history", channelId: "c_x" })).toMatchObject({ type: "error", code: "unauthorized" })
    // Another user is not affected.
    const theirs = await WsClient.connect(node().wsUrl, other.accessToken)
    expect((await theirs.request({ type: "ping" })).type).toBe("pong")

    open[0]!.close()
    await open[0]!.waitClosed()
    const retried = await late.request({ type: "auth", token: me.accessToken })
    expect(retried).toMatchObject({ type: "authenticated", userId: me.userId })
    for (const c of [...open.slice(1), late, theirs]) c.close()
  }, 60_000)
})
