/**
 * REST and typed RPC run on the node's own runtime: its log level reaches
 * their handlers, and a client that goes away interrupts its handler fiber.
 */
import { Effect, Either } from "effect"
import { PlexiClient } from "plexichat/client"
import { describe, expect, it } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest } from "../fixtures/Clients.ts"
import type { NodeProcess } from "../fixtures/NodeProcess.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

const feeds = async (node: NodeProcess) =>
  ((await (await fetch(`${node.url}/api/v1/health`)).json()) as { feeds: number }).feeds

describe("one runtime for every HTTP door", () => {
  const node = nodeForSuite({ env: { PLEXI_LOG_LEVEL: "Debug" } })

  it("writes debug logs of REST and RPC handlers when PLEXI_LOG_LEVEL=Debug", async () => {
    const refused = await fetch(`${node().url}/api/v1/me`, { headers: { authorization: "Bearer dev.bogus.token" } })
    expect(refused.status).toBe(401)
    const outcome = await Effect.runPromise(
      Effect.flatMap(PlexiClient, (c) => c.Me({})).pipe(
        Effect.provide(PlexiClient.layer({ url: node().url, token: "dev.bogus.token" })),
        Effect.either
      )
    )
    expect(Either.isLeft(outcome) && outcome.left._tag).toBe("Unauthorized")
    await expect.poll(() => node().output(), { timeout: 10_000 }).toMatch(/DEBUG.*REST request refused/)
    await expect.poll(() => node().output(), { timeout: 10_000 }).toMatch(/DEBUG.*RPC call refused/)
  })

  it("releases the channel feed of an RPC Subscribe whose HTTP client disconnects", async () => {
    const { token } = await signedIn(node().url, "leaver")
    const channel = await rest(node().url, token).createChannel("abandoned")
    expect(await feeds(node())).toBe(0)
    const abort = new AbortController()
    const call = `${JSON.stringify({ _tag: "Request", id: "1", tag: "Subscribe", payload: { channelId: channel.id }, headers: [] })}\n`
    // The RPC server sends the response head with the first message, and this channel has none: do not await it.
    const pending = fetch(`${node().url}/rpc`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/ndjson" },
      body: call,
      signal: abort.signal
    }).then((res) => res.text())
    await expect.poll(() => feeds(node()), { timeout: 10_000 }).toBe(1)
    abort.abort()
    await expect(pending).rejects.toThrow()
    await expect.poll(() => feeds(node()), { timeout: 10_000 }).toBe(0)
  })
})
