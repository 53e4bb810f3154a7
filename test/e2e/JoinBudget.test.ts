/**
 * The per-user join budget (PLEXI_JOIN_RATE_LIMIT / _BURST), shared by REST
 * and typed RPC: past it a join answers 429 RateLimited with Retry-After
 * (REST) or the typed RateLimited (RPC), and the user is not made a member.
 */
import { Effect, Either } from "effect"
import { ChannelId, PlexiClient } from "plexichat/client"
import { describe, expect, it } from "vitest"
import { authClient } from "../fixtures/AuthClient.ts"
import { rest } from "../fixtures/Clients.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

describe("per-user join budget", () => {
  // 2 joins at once, then one every 100 s: nothing refills during the test.
  const node = nodeForSuite({ env: { PLEXI_JOIN_RATE_LIMIT: "0.01", PLEXI_JOIN_RATE_BURST: "2" } })

  it("refuses the third join over REST and RPC together, and the refused join makes no member", async () => {
    const auth = authClient(node().url)
    const owner = await auth.signUp("join-owner", "correct horse battery")
    const joiner = await auth.signUp("join-hasty", "correct horse battery")
    const channels = await Promise.all([1, 2, 3].map((i) => rest(node().url, owner.accessToken).createChannel(`join-${i}`)))
    const api = rest(node().url, joiner.accessToken)
    expect((await api.call("POST", `/channels/${channels[0]!.id}/join`)).status).toBe(200)
    const viaRpc = await Effect.runPromise(
      Effect.flatMap(PlexiClient, (client) => Effect.either(client.JoinChannel({ channelId: ChannelId.make(channels[1]!.id) }))).pipe(
        Effect.scoped,
        Effect.provide(PlexiClient.layer({ url: node().url, token: joiner.accessToken }))
      )
    )
    expect(Either.isRight(viaRpc)).toBe(true)
    const refused = await fetch(`${node().url}/api/v1/channels/${channels[2]!.id}/join`, {
      method: "POST",
      headers: { authorization: `Bearer ${joiner.accessToken}` }
    })
    expect(refused.status).toBe(429)
    const body = await refused.json() as { _tag: string; retryAfterMs: number }
    expect(body._tag).toBe("RateLimited")
    expect(Number(refused.headers.get("retry-after"))).toBe(Math.ceil(body.retryAfterMs / 1000))
    const rpcRefused = await Effect.runPromise(
      Effect.flatMap(PlexiClient, (client) => Effect.either(client.JoinChannel({ channelId: ChannelId.make(channels[2]!.id) }))).pipe(
        Effect.scoped,
        Effect.provide(PlexiClient.layer({ url: node().url, token: joiner.accessToken }))
      )
    )
    expect(Either.isLeft(rpcRefused) && rpcRefused.left._tag).toBe("RateLimited")
    // Not a member: a post there is refused.
    const post = await api.call("POST", `/channels/${channels[2]!.id}/messages`, { clientMsgId: "j1", body: "hi" })
    expect(post.status).toBe(403)
    expect(post.body._tag).toBe("NotAMember")
  }, 60_000)
})
