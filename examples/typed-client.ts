/**
 * A typed client end to end: connect, create a channel, post, read history
 * and follow the live stream.
 *
 *   node --import tsx examples/typed-client.ts [baseUrl] [username] [password]
 *
 * It signs up (`POST /api/v1/auth/register`), or signs in when the username
 * is taken (`POST /api/v1/auth/login`), and uses the access token.
 */
import { Chunk, Console, Effect, Fiber, Stream } from "effect"
import { PlexiClient } from "plexichat/client"

const baseUrl = process.argv[2] ?? "http://localhost:8080"
const username = process.argv[3] ?? "example-user"
const password = process.argv[4] ?? "an example passphrase, change me"

const authCall = (path: string) =>
  fetch(`${baseUrl}/api/v1/auth/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password })
  })

/** The access token of a new account, or of the existing one (409 UsernameTaken: sign in). */
const signIn = Effect.promise(async () => {
  let res = await authCall("register")
  if (res.status === 409) res = await authCall("login")
  if (!res.ok) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { accessToken: string }).accessToken
})

const program = Effect.gen(function*() {
  const client = yield* PlexiClient
  const me = yield* client.Me({})
  yield* Console.log(`signed in as ${username} (${me.id})`)

  const channel = yield* client.CreateChannel({ name: "typed-client demo" })
  yield* Console.log(`created channel ${channel.id}`)

  const first = yield* client.PostMessage({ channelId: channel.id, clientMsgId: "hello-1", body: "hello, typed world" })
  // A retry with the same clientMsgId returns the original message.
  const retry = yield* client.PostMessage({ channelId: channel.id, clientMsgId: "hello-1", body: "hello, typed world" })
  yield* Console.log(`posted seq ${first.seq} (retry answered seq ${retry.seq})`)

  const history = yield* client.History({ channelId: channel.id, afterSeq: 0 })
  yield* Console.log(`history: ${history.map((m) => `#${m.seq} ${m.body}`).join(", ")}`)

  // Follow from seq 0: the stream replays history, then goes live.
  const follower = yield* client.Subscribe({ channelId: channel.id, afterSeq: 0 }).pipe(
    Stream.take(3),
    Stream.runCollect,
    Effect.fork
  )
  yield* Effect.sleep("200 millis")
  yield* client.PostMessage({ channelId: channel.id, clientMsgId: "live-1", body: "live one" })
  yield* client.PostMessage({ channelId: channel.id, clientMsgId: "live-2", body: "live two" })
  const followed = yield* Fiber.join(follower).pipe(Effect.timeout("10 seconds"))
  for (const m of Chunk.toReadonlyArray(followed)) yield* Console.log(`stream: #${m.seq} ${m.body}`)
  return { channelId: channel.id, seqs: Chunk.toReadonlyArray(followed).map((m) => m.seq) }
})

Effect.flatMap(signIn, (token) => program.pipe(Effect.provide(PlexiClient.layer({ url: baseUrl, token })))).pipe(
  Effect.tap((result) => Console.log(JSON.stringify(result))),
  Effect.runPromise
).catch((error) => {
  console.error(error)
  process.exit(1)
})
