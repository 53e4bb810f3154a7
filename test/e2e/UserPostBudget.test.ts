/**
 * The cluster-wide per-user post budget on one node: a user posting over 10
 * sockets gets the budget once, not once per socket; refused posts get
 * `rate_limited` with their `ref` and `retryAfterMs` and are not stored; REST
 * shares the budget and answers 429 with `Retry-After`.
 */
import { describe, expect, it } from "vitest"
import { authClient } from "../fixtures/AuthClient.ts"
import { rest, WsClient } from "../fixtures/Clients.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"
import { floodPosts } from "../fixtures/PostFlood.ts"

const RATE = 20
const BURST = 20

/** What the budget admits over `seconds`: the burst plus the refill. */
const budgetFor = (seconds: number) => BURST + RATE * seconds

describe("per-user post budget on one node", () => {
  const node = nodeForSuite({
    env: {
      PLEXI_POST_RATE_LIMIT: String(RATE),
      PLEXI_POST_RATE_BURST: String(BURST),
      // The per-socket limit out of the way: this measures the per-user one.
      PLEXI_WS_RATE_LIMIT: "100000",
      PLEXI_WS_RATE_BURST: "100000"
    }
  })

  it("holds one user's posts over 10 sockets to the configured rate ±20%, refusing the rest with rate_limited and their ref", async () => {
    const me = await authClient(node().url).signUp("budget-ten", "correct horse battery")
    const api = rest(node().url, me.accessToken)
    const channel = await api.createChannel("budget-ten")
    const clients = await Promise.all(Array.from({ length: 10 }, () => WsClient.connect(node().wsUrl, me.accessToken)))
    try {
      const result = await floodPosts(clients, channel.id, { perTick: 1, ms: 4_000 })
      const expected = budgetFor(result.seconds)
      console.info(`10 sockets: ${result.acked} of ${result.sent} posts admitted in ${result.seconds.toFixed(2)} s; the budget allows ${expected.toFixed(0)}`)
      expect(result.other).toEqual([])
      expect(result.acked).toBeGreaterThanOrEqual(expected * 0.8)
      expect(result.acked).toBeLessThanOrEqual(expected * 1.2)
      // Without the per-user budget each socket would have had its own 200/s.
      expect(result.refused.length).toBe(result.sent - result.acked)
      for (const f of result.refused) {
        expect(f.ref).toMatch(/^f\d+-\d+$/)
        expect(f.retryAfterMs).toBeGreaterThan(0)
      }
      // Refused posts were never stored.
      expect((await api.history(channel.id)).length).toBe(result.acked)

      // REST shares the budget: the flood spent it, so of 40 REST posts at once (twice the burst; the bucket refills one token
      // per 50 ms) some answer 429 RateLimited with Retry-After.
      const answers = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
        const res = await fetch(`${node().url}/api/v1/channels/${channel.id}/messages`, {
          method: "POST",
          headers: { authorization: `Bearer ${me.accessToken}`, "content-type": "application/json" },
          body: JSON.stringify({ clientMsgId: `rest-${i}`, body: "over budget?" })
        })
        return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() as { _tag?: string; retryAfterMs?: number } }
      }))
      const limited = answers.filter((a) => a.status === 429)
      expect(limited.length).toBeGreaterThan(0)
      expect(answers.every((a) => a.status === 429 || a.status === 201)).toBe(true)
      for (const a of limited) {
        expect(a.body._tag).toBe("RateLimited")
        expect(Number(a.retryAfter)).toBe(Math.max(1, Math.ceil(a.body.retryAfterMs! / 1000)))
      }
    } finally {
      for (const c of clients) c.close()
    }
  }, 60_000)
})
