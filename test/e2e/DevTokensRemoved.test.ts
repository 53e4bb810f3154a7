/**
 * The development tokens are gone: `POST /api/v1/dev/token` answers 404, and
 * a token forged with the old public default secret is refused on every
 * door (REST, typed RPC, the WebSocket upgrade and the `auth` frame). The
 * node runs with the retired variables still set, as a deployment upgraded
 * without cleaning its environment would: it starts, warns about each one,
 * and they grant nothing. A real user's token passes the same doors.
 */
import { createHmac } from "node:crypto"
import { Effect, Either } from "effect"
import { SignJWT } from "jose"
import { PlexiClient } from "plexichat/client"
import { describe, expect, it } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import { rest, WsClient } from "../fixtures/Clients.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"
import { craftAccessToken } from "../fixtures/TestTokens.ts"

/** The development tokens' default secret, printed in the README until issue 7: anyone could sign with it. */
const oldPublicSecret = "plexichat-development-secret-change-me"
const oldSecretKey = new TextEncoder().encode(oldPublicSecret)
const inAnHour = () => Date.now() + 3_600_000

/** The removed format, `dev.<base64url {sub, exp}>.<HMAC-SHA256>`, as the old POST /api/v1/dev/token minted it. */
const oldDevToken = (sub: string) => {
  const payload = Buffer.from(JSON.stringify({ sub, exp: inAnHour() })).toString("base64url")
  return `dev.${payload}.${createHmac("sha256", oldPublicSecret).update(payload).digest("base64url")}`
}

/** Forgeries with the old secret: the old format, a JWT with the old claims only, and one shaped like the node's own. */
const forgeries = async (sub: string): Promise<Record<string, string>> => ({
  "dev format": oldDevToken(sub),
  "HS256, old claims": await new SignJWT({ sub, exp: Math.floor(inAnHour() / 1000) })
    .setProtectedHeader({ alg: "HS256" })
    .sign(oldSecretKey),
  "HS256, the node's claims and key id": await craftAccessToken({ sub, expiresAt: inAnHour(), secret: oldPublicSecret })
})

/** The typed RPC door: `Me` with `token`, answering the error's tag or "ok". */
const rpcMe = (url: string, token: string) =>
  Effect.runPromise(
    Effect.flatMap(PlexiClient, (client) => client.Me({})).pipe(
      Effect.provide(PlexiClient.layer({ url, token })),
      Effect.either,
      Effect.map((outcome) => (Either.isLeft(outcome) ? outcome.left._tag : "ok"))
    )
  )

describe("development tokens removed", () => {
  const node = nodeForSuite({
    env: {
      PLEXI_DEV_AUTH: "true",
      PLEXI_DEV_TOKEN_SECRET: oldPublicSecret,
      PLEXI_DEV_TOKEN_TTL: "12 hours"
    }
  })

  it("starts with the retired variables set and names each in a warning, never its value", async () => {
    for (const name of ["PLEXI_DEV_AUTH", "PLEXI_DEV_TOKEN_SECRET", "PLEXI_DEV_TOKEN_TTL"]) {
      await expect.poll(() => node().output(), { timeout: 5_000 }).toContain(`${name} is set but no longer has any effect`)
    }
    expect(node().output()).not.toContain(oldPublicSecret)
  })

  it("answers 404 NotFound to POST /api/v1/dev/token, and the OpenAPI document no longer lists it", async () => {
    for (const body of [JSON.stringify({ userId: "admin" }), undefined]) {
      const res = await fetch(`${node().url}/api/v1/dev/token`, {
        method: "POST",
        ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body })
      })
      expect(res.status).toBe(404)
      expect(await res.json()).toMatchObject({ _tag: "NotFound" })
    }
    const doc = (await (await fetch(`${node().url}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths).filter((path) => path.includes("/dev"))).toEqual([])
  })

  it("refuses tokens forged with the old public default secret on REST, typed RPC, the WebSocket upgrade and the auth frame", async () => {
    const victim = await signedIn(node().url, "devgone-victim")
    // A real token passes every door: the refusals below are the forgeries', not the doors'.
    expect((await rest(node().url, victim.token).call("GET", "/me")).status).toBe(200)
    expect(await rpcMe(node().url, victim.token)).toBe("ok")
    const real = await WsClient.connect(node().wsUrl, victim.token)
    expect(await real.waitFor((f) => f.type === "hello")).toMatchObject({ userId: victim.userId })
    real.close()

    for (const sub of ["admin", victim.userId]) {
      for (const [kind, token] of Object.entries(await forgeries(sub))) {
        const what = `${kind} for ${sub}`
        const api = rest(node().url, token)
        expect((await api.call("GET", "/me")).status, what).toBe(401)
        const create = await api.call("POST", "/channels", { name: "forged" })
        expect(create, what).toMatchObject({ status: 401, body: { _tag: "Unauthorized" } })
        expect(await rpcMe(node().url, token), what).toBe("Unauthorized")
        await expect(WsClient.connect(node().wsUrl, token), what).rejects.toThrow("upgrade refused: 401")
        const socket = await WsClient.connect(node().wsUrl)
        await socket.waitFor((f) => f.type === "hello")
        expect(await socket.request({ type: "auth", token }), what).toMatchObject({ type: "error", code: "unauthorized" })
        // The socket stays open and anonymous.
        expect(await socket.request({ type: "post", channelId: "c_forged", clientMsgId: "f", body: "x" }), what)
          .toMatchObject({ type: "error", code: "unauthorized" })
        socket.close()
      }
    }
    // Nothing the forgeries tried was written: the victim is in no channel.
    expect((await rest(node().url, victim.token).call("GET", "/me")).body).toMatchObject({ id: victim.userId, channels: [] })
  }, 60_000)
})
