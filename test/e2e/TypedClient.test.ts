/**
 * The typed RPC client (`plexichat/client`) against a real node process,
 * through the uWS edge's `/rpc` bridge.
 */
import { execFile } from "node:child_process"
import { resolve } from "node:path"
import { promisify } from "node:util"
import { Chunk, Deferred, Effect, Either, Fiber, Stream } from "effect"
import { ChannelId, PlexiClient } from "plexichat/client"
import { describe, expect, it } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest, WsClient } from "../fixtures/Clients.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

const root = resolve(import.meta.dirname, "../..")

describe("typed client", () => {
  // A high WebSocket rate limit lets one test load a long backlog quickly.
  const node = nodeForSuite({ env: { PLEXI_WS_RATE_LIMIT: "1000000", PLEXI_WS_RATE_BURST: "1000000" } })

  it("examples/typed-client.ts connects, creates a channel, posts, reads history and follows the live stream", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/typed-client.ts", node().url, "example-user"], {
      cwd: root,
      timeout: 30_000
    })
    expect(stdout).toMatch(/signed in as example-user \(u_[A-Za-z0-9_-]+\)/)
    expect(stdout).toContain("posted seq 1 (retry answered seq 1)")
    expect(stdout).toContain("history: #1 hello, typed world")
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as { seqs: Array<number> }
    expect(result.seqs).toEqual([1, 2, 3])
  }, 40_000)

  it("maps domain failures to typed errors: Unauthorized for a bad token, ChannelNotFound for a stranger's post to a private channel", async () => {
    const { token: owner } = await signedIn(node().url, "owner")
    const { token: stranger } = await signedIn(node().url, "stranger")
    const program = Effect.gen(function*() {
      const channel = yield* Effect.flatMap(PlexiClient, (c) => c.CreateChannel({ name: "typed errors", visibility: "private" }))
        .pipe(Effect.provide(PlexiClient.layer({ url: node().url, token: owner })))
      const notMember = yield* Effect.flatMap(PlexiClient, (c) =>
        c.PostMessage({ channelId: channel.id, clientMsgId: "x", body: "let me in" })
      ).pipe(Effect.provide(PlexiClient.layer({ url: node().url, token: stranger })), Effect.either)
      const unauthorized = yield* Effect.flatMap(PlexiClient, (c) => c.Me({})).pipe(
        Effect.provide(PlexiClient.layer({ url: node().url, token: "dev.bogus.token" })),
        Effect.either
      )
      return { notMember, unauthorized }
    })
    const { notMember, unauthorized } = await Effect.runPromise(program)
    expect(Either.isLeft(notMember) && notMember.left._tag).toBe("ChannelNotFound")
    expect(Either.isLeft(unauthorized) && unauthorized.left._tag).toBe("Unauthorized")
  }, 30_000)

  it("Subscribe resumes after afterSeq with no gap and no duplicate, then goes live", async () => {
    const { token } = await signedIn(node().url, "streamer")
    const program = Effect.gen(function*() {
      const client = yield* PlexiClient
      const channel = yield* client.CreateChannel({ name: "stream" })
      for (let i = 1; i <= 5; i++) {
        yield* client.PostMessage({ channelId: channel.id, clientMsgId: `b${i}`, body: `backlog ${i}` })
      }
      // Post the live messages once the backlog has arrived, so that they take the live path.
      const caughtUp = yield* Deferred.make<void>()
      const follower = yield* client.Subscribe({ channelId: channel.id, afterSeq: 2 }).pipe(
        Stream.tap((m) => m.seq === 5 ? Deferred.succeed(caughtUp, undefined) : Effect.void),
        Stream.take(6),
        Stream.runCollect,
        Effect.fork
      )
      yield* Deferred.await(caughtUp).pipe(Effect.timeout("10 seconds"))
      for (let i = 1; i <= 3; i++) {
        yield* client.PostMessage({ channelId: channel.id, clientMsgId: `l${i}`, body: `live ${i}` })
      }
      return Chunk.toReadonlyArray(yield* Fiber.join(follower).pipe(Effect.timeout("10 seconds")))
    }).pipe(Effect.provide(PlexiClient.layer({ url: node().url, token })))
    const messages = await Effect.runPromise(program)
    expect(messages.map((m) => m.seq)).toEqual([3, 4, 5, 6, 7, 8])
    expect(messages.map((m) => m.body)).toEqual(["backlog 3", "backlog 4", "backlog 5", "live 1", "live 2", "live 3"])
  }, 30_000)

  it("Subscribe replays a backlog longer than the stream buffer, in pages, then goes live", async () => {
    const { token } = await signedIn(node().url, "backlog")
    const channelId = ChannelId.make((await rest(node().url, token).createChannel("long backlog")).id)
    const total = 4600
    const ws = await WsClient.connect(node().wsUrl, token)
    for (let i = 1; i <= total; i++) ws.send({ type: "post", channelId, clientMsgId: `b${i}`, body: `backlog ${i}` })
    await ws.waitFor((f) => f.type === "ack" && f.clientMsgId === `b${total}`, 60_000)
    ws.close()
    const program = Effect.gen(function*() {
      const client = yield* PlexiClient
      const caughtUp = yield* Deferred.make<void>()
      const follower = yield* client.Subscribe({ channelId, afterSeq: 0 }).pipe(
        Stream.tap((m) => m.seq === total ? Deferred.succeed(caughtUp, undefined) : Effect.void),
        Stream.take(total + 1),
        Stream.runCollect,
        Effect.fork
      )
      yield* Deferred.await(caughtUp).pipe(Effect.timeout("30 seconds"))
      yield* client.PostMessage({ channelId, clientMsgId: "live", body: "live" })
      return Chunk.toReadonlyArray(yield* Fiber.join(follower).pipe(Effect.timeout("30 seconds")))
    }).pipe(Effect.provide(PlexiClient.layer({ url: node().url, token })))
    const messages = await Effect.runPromise(program)
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: total + 1 }, (_, i) => i + 1))
    expect(messages.at(-1)!.body).toBe("live")
  }, 90_000)
})
