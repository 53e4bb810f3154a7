/**
 * REST and typed RPC share a per-user request budget (PLEXI_API_RATE_LIMIT /
 * PLEXI_API_RATE_BURST); a refused request writes nothing.
 */
import { Effect, Either } from "effect"
import { PlexiClient } from "plexichat/client"
import { describe, expect, it, vi } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest } from "../fixtures/Clients.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

describe("per-user request rate limit", () => {
  const node = nodeForSuite({ env: { PLEXI_API_RATE_LIMIT: "2", PLEXI_API_RATE_BURST: "6" } })

  it("answers 429 RateLimited with retryAfterMs once the burst is spent, and stores none of the refused posts", async () => {
    const started = performance.now()
    const { token } = await signedIn(node().url, "hasty")
    const api = rest(node().url, token)
    const channel = await api.createChannel("hasty")
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      api.call("POST", `/channels/${channel.id}/messages`, { clientMsgId: `h${i}`, body: `post ${i}` })))
    const elapsedSeconds = (performance.now() - started) / 1000
    const accepted = results.filter((r) => r.status === 201)
    const refused = results.filter((r) => r.status === 429)
    expect(accepted.length + refused.length).toBe(12)
    // The burst of 6 minus the channel (same bucket; signing up takes none), plus what 2/s refilled meanwhile
    // (a loaded machine can take seconds for these requests).
    expect(accepted.length).toBeGreaterThanOrEqual(5)
    expect(accepted.length).toBeLessThanOrEqual(Math.floor(5 + 2 * elapsedSeconds))
    expect(refused.length).toBeGreaterThan(0)
    for (const r of refused) {
      expect(r.body).toMatchObject({ _tag: "RateLimited" })
      expect(r.body.retryAfterMs).toBeGreaterThan(0)
    }
    // The burst is spent: read history once the bucket has refilled (a refused read takes no token).
    const history = await vi.waitFor(async () => {
      const read = await api.call("GET", `/channels/${channel.id}/messages?afterSeq=0&limit=1000`)
      expect(read.status).toBe(200)
      return read.body as Array<{ seq: number; body: string }>
    }, { timeout: 10_000, interval: 100 })
    expect(history.map((m) => m.seq)).toEqual(accepted.map((_, i) => i + 1))
    expect(new Set(history.map((m) => m.body))).toEqual(new Set(accepted.map((r) => r.body.body)))
  }, 30_000)

  it("fails typed RPC calls past the budget with the typed RateLimited error", async () => {
    const { token } = await signedIn(node().url, "hasty-rpc")
    const outcomes = await Effect.runPromise(
      Effect.flatMap(PlexiClient, (client) =>
        Effect.forEach(Array.from({ length: 12 }), () => Effect.either(client.Me({})), { concurrency: "unbounded" })
      ).pipe(Effect.provide(PlexiClient.layer({ url: node().url, token })))
    )
    const limited = outcomes.filter((o) => Either.isLeft(o) && o.left._tag === "RateLimited")
    expect(limited.length).toBeGreaterThan(0)
    expect(outcomes.filter(Either.isRight).length).toBeGreaterThan(0)
  }, 30_000)
})
