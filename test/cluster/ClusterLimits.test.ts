/**
 * Limits that hold across 3 node processes: the per-user post budget (one
 * user posting over two sockets on each node gets the configured rate ±20%
 * in total, not three or six times it; nodes lease tokens from the user's
 * User entity, wherever it runs), the per-user request budget of REST and
 * RPC (the same leases), and the login throttle (failures on one node count
 * on the others: the state is in Postgres).
 */
import { describe, expect, it } from "vitest"
import { authClient } from "../fixtures/AuthClient.ts"
import { rest, WsClient } from "../fixtures/Clients.ts"
import { clusterForSuite } from "../fixtures/ClusterSuite.ts"
import { floodPosts } from "../fixtures/PostFlood.ts"
import { floodRequests } from "../fixtures/RequestFlood.ts"

const RATE = 20
const BURST = 20

describe("limits over 3 node processes", () => {
  const cluster = clusterForSuite({
    prefix: "budget",
    node: {
      env: {
        PLEXI_POST_RATE_LIMIT: String(RATE),
        PLEXI_POST_RATE_BURST: String(BURST),
        PLEXI_API_RATE_LIMIT: String(RATE),
        PLEXI_API_RATE_BURST: String(BURST),
        PLEXI_WS_RATE_LIMIT: "100000",
        PLEXI_WS_RATE_BURST: "100000",
        PLEXI_LOGIN_DELAY_AFTER: "100",
        PLEXI_LOGIN_LOCK_AFTER: "4"
      }
    }
  })

  it("admits the configured rate ±20% for a user posting on all three nodes at once", async () => {
    const nodes = cluster.nodes
    const me = await authClient(nodes[0]!.url).signUp("budget-three", "correct horse battery")
    const channel = await rest(nodes[0]!.url, me.accessToken).createChannel("budget-three")
    const clients = await Promise.all(nodes.flatMap((n) => [WsClient.connect(n.wsUrl, me.accessToken), WsClient.connect(n.wsUrl, me.accessToken)]))
    try {
      const result = await floodPosts(clients, channel.id, { perTick: 1, ms: 5_000 })
      const expected = BURST + RATE * result.seconds
      console.info(`3 nodes × 2 sockets: ${result.acked} of ${result.sent} posts admitted in ${result.seconds.toFixed(2)} s; the budget allows ${expected.toFixed(0)}`)
      expect(result.other).toEqual([])
      expect(result.acked).toBeGreaterThanOrEqual(expected * 0.8)
      expect(result.acked).toBeLessThanOrEqual(expected * 1.2)
      for (const f of result.refused) expect(f.retryAfterMs).toBeGreaterThan(0)
      // Every node admitted some: the budget is shared, not taken by whichever node asked first.
      const perNode = nodes.map((_, i) => [clients[2 * i]!, clients[2 * i + 1]!].reduce((n, c) => n + c.all((f) => f.type === "ack").length, 0))
      for (const n of perNode) expect(n).toBeGreaterThan(0)
      expect((await rest(nodes[1]!.url, me.accessToken).history(channel.id)).length).toBe(result.acked)
    } finally {
      for (const c of clients) c.close()
    }
  }, 120_000)

  it("admits the configured request rate ±20% for a user making REST and RPC calls on all three nodes at once", async () => {
    const nodes = cluster.nodes
    const me = await authClient(nodes[0]!.url).signUp("requests-three", "correct horse battery")
    // 3 nodes × (one REST and one RPC call every 20 ms): 300 calls/s offered against 20/s.
    const result = await floodRequests(nodes, me.accessToken, 5_000)
    const admitted = result.admitted.reduce((n, a) => n + a.rest + a.rpc, 0)
    const expected = BURST + RATE * result.seconds
    console.info(`3 nodes, REST and RPC: ${admitted} of ${result.sent} calls admitted in ${result.seconds.toFixed(2)} s; the budget allows ${expected.toFixed(0)}`)
    expect(result.other).toEqual([])
    expect(admitted).toBeGreaterThanOrEqual(expected * 0.8)
    expect(admitted).toBeLessThanOrEqual(expected * 1.2)
    expect(result.retryAfterMs.length).toBe(result.sent - admitted)
    for (const ms of result.retryAfterMs) expect(ms).toBeGreaterThan(0)
    // REST refusals carry Retry-After in whole seconds, rounded up.
    expect(result.retryAfterHeaders.length).toBeGreaterThan(0)
    for (const s of result.retryAfterHeaders) expect(s).toBeGreaterThanOrEqual(1)
    // Every node admitted some, over both doors: one budget, shared.
    for (const a of result.admitted) expect(a.rest + a.rpc).toBeGreaterThan(0)
    expect(result.admitted.reduce((n, a) => n + a.rest, 0)).toBeGreaterThan(0)
    expect(result.admitted.reduce((n, a) => n + a.rpc, 0)).toBeGreaterThan(0)
  }, 120_000)

  it("counts failed sign-ins on every node: two on each of two nodes lock the account from that address on the third", async () => {
    const [a, b, c] = cluster.nodes
    await authClient(a!.url).signUp("locked-everywhere", "correct horse battery")
    for (const node of [a!, a!, b!, b!]) {
      const r = await authClient(node.url).login({ username: "locked-everywhere", password: "wrong guess" })
      expect(r.body._tag).toBe("InvalidCredentials")
    }
    const locked = await authClient(c!.url).login({ username: "locked-everywhere", password: "correct horse battery" })
    expect(locked.status).toBe(429)
    expect(locked.body).toMatchObject({ _tag: "SignInLocked", scope: "account" })
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0)
  }, 60_000)
})
