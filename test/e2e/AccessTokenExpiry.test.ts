/**
 * A WebSocket signed in with an access token lives as long as the token:
 * `PLEXI_WS_TOKEN_EXPIRY_WARNING` before its expiry the socket is sent
 * `token_expiring`, and at its expiry it is told and closed with 4001, unless
 * the client refreshed and sent the new access token in an `auth` frame
 * before. A real node with 5-second access tokens (4 to 5 s: JWT times are
 * whole seconds) and a 3-second warning, real WebSocket clients.
 */
import { describe, expect, it, vi } from "vitest"
import { authClient, type TokenPair } from "../fixtures/AuthClient.ts"
import { WsClient } from "../fixtures/Clients.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

describe("access-token expiry on an open WebSocket", () => {
  const node = nodeForSuite({ env: { PLEXI_AUTH_ACCESS_TTL: "5 seconds", PLEXI_WS_TOKEN_EXPIRY_WARNING: "3 seconds" } })

  it("closes the socket with 4001 at the token's expiry, and keeps one re-authenticated with a refreshed token", async () => {
    const auth = authClient(node().url)
    const first = await auth.signUp("expiring", "a long and unusual passphrase")
    const left = await WsClient.connect(node().wsUrl, first.accessToken)
    const kept = await WsClient.connect(node().wsUrl, first.accessToken)

    // JWT times are whole seconds: refresh (rotating each time) until the new token expires later than the first.
    let refreshed = first
    await vi.waitFor(async () => {
      refreshed = (await auth.refresh(refreshed.refreshToken)).body as TokenPair
      expect(refreshed.accessTokenExpiresAt).toBeGreaterThan(first.accessTokenExpiresAt)
    }, { timeout: 5_000, interval: 100 })
    const again = await kept.request({ type: "auth", token: refreshed.accessToken })
    expect(again).toMatchObject({ type: "authenticated", userId: first.userId, expiresAt: refreshed.accessTokenExpiresAt })

    expect(await left.waitClosed(15_000)).toBe(4001)
    // Warned first, with the expiry, and told at the close.
    const warned = left.frames.findIndex((f) => f.type === "token_expiring")
    expect(left.frames[warned]).toEqual({ type: "token_expiring", expiresAt: first.accessTokenExpiresAt })
    expect(left.frames.findIndex((f) => f.type === "error" && f.reason === "token_expired")).toBeGreaterThan(warned)
    expect(left.frames.filter((f) => f.type === "error" && f.reason === "token_expired")).toHaveLength(1)
    // Both sockets held the same token; the sweep that closed the first left the re-authenticated one open.
    expect(await kept.request({ type: "ping" })).toMatchObject({ type: "pong" })
    expect(kept.closeCode).toBeUndefined()
    kept.close()
  }, 30_000)
})
