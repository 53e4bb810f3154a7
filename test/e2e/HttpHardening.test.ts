/**
 * HTTP hardening and the WebSocket Origin check against real node processes
 * (docs/SECURITY.md, "HTTP hardening"): the security headers on a sample of
 * every kind of answer (success, HEAD, schema refusals, guard refusals, 401,
 * 404, 405, the bridge's own 413, the OpenAPI document), CORS closed by
 * default and open to a listed origin only, preflights, HSTS only with
 * `PLEXI_BEHIND_TLS`, and WebSocket upgrades with, without and from a
 * foreign `Origin`.
 */
import { describe, expect, it } from "vitest"
import WebSocket from "ws"
import type { NodeProcess } from "../fixtures/NodeProcess.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

const app = "https://app.example"
const foreign = "https://evil.example"

const security = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer"
}

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: string
}

const call = async (node: NodeProcess, method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) => {
  const res = await fetch(`${node.url}${path}`, { method, headers: init.headers ?? {}, ...(init.body === undefined ? {} : { body: init.body }) })
  return { status: res.status, headers: res.headers, body: await res.text() } satisfies Answer
}

/** One request of each kind of answer, each sent with `Origin: origin`; name → [expected status, answer]. */
const sample = async (node: NodeProcess, origin: string) => {
  const o = { origin }
  const json = { ...o, "content-type": "application/json" }
  const username = `h${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`
  const answers: Record<string, [number, Answer]> = {
    "health 200": [200, await call(node, "GET", "/api/v1/health", { headers: o })],
    "HEAD health 200": [200, await call(node, "HEAD", "/api/v1/health", { headers: o })],
    "OpenAPI document 200": [200, await call(node, "GET", "/api/v1/openapi.json", { headers: o })],
    "register 201": [201, await call(node, "POST", "/api/v1/auth/register", {
      headers: json,
      body: JSON.stringify({ username, password: "a long enough passphrase" })
    })],
    "login 200": [200, await call(node, "POST", "/api/v1/auth/login", {
      headers: json,
      body: JSON.stringify({ username, password: "a long enough passphrase" })
    })],
    "schema refusal 400": [400, await call(node, "POST", "/api/v1/auth/login", { headers: json, body: "{}" })],
    "guard refusal 400": [400, await call(node, "POST", "/api/v1/channels", { headers: json, body: "{not json" })],
    "no token 401": [401, await call(node, "GET", "/api/v1/me", { headers: o })],
    "no route 404": [404, await call(node, "GET", "/no/such/path", { headers: o })],
    "GET /rpc 405": [405, await call(node, "GET", "/rpc", { headers: o })],
    "bridge's own 413": [413, await call(node, "POST", "/api/v1/channels", { headers: json, body: "x".repeat(2048) })]
  }
  return answers
}

const expectSecurityHeaders = (name: string, answer: Answer) => {
  for (const [header, value] of Object.entries(security)) expect(answer.headers.get(header), `${name}: ${header}`).toBe(value)
  expect(answer.headers.get("vary") ?? "", `${name}: vary`).toContain("Origin")
}

/** WebSocket upgrade: "open" (after the hello frame) or the refusal's status, headers and body. */
const upgrade = (node: NodeProcess, origin: string | undefined) =>
  new Promise<{ opened: true } | { opened: false; status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const socket = new WebSocket(node.wsUrl, origin === undefined ? {} : { origin })
    socket.once("message", (data) => {
      expect(JSON.parse(data.toString())).toMatchObject({ type: "hello" })
      socket.close()
      resolve({ opened: true })
    })
    socket.once("unexpected-response", (_req, res) => {
      let body = ""
      res.on("data", (chunk: Buffer) => (body += chunk.toString()))
      res.on("end", () => resolve({ opened: false, status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    socket.once("error", reject)
  })

const connections = async (node: NodeProcess) =>
  ((await (await fetch(`${node.url}/api/v1/health`)).json()) as { connections: number }).connections

describe("HTTP hardening with the defaults (CORS closed, same-origin WebSockets, no TLS)", () => {
  const node = nodeForSuite({ env: { PLEXI_HTTP_MAX_BODY_BYTES: "1024" } })

  it("every kind of answer carries the security headers and Vary: Origin, no HSTS and no Access-Control-Allow-Origin", async () => {
    const answers = await sample(node(), app)
    for (const [name, [status, answer]] of Object.entries(answers)) {
      expect(answer.status, `${name}: ${answer.body.slice(0, 200)}`).toBe(status)
      expectSecurityHeaders(name, answer)
      expect(answer.headers.get("strict-transport-security"), name).toBeNull()
      expect(answer.headers.get("access-control-allow-origin"), name).toBeNull()
      expect(answer.headers.get("access-control-expose-headers"), name).toBeNull()
    }
  })

  it("answers that carry a credential are Cache-Control: no-store; the OpenAPI document still parses", async () => {
    const answers = await sample(node(), app)
    for (const name of ["register 201", "login 200", "schema refusal 400"]) {
      expect(answers[name]![1].headers.get("cache-control"), name).toBe("no-store")
    }
    expect(JSON.parse(answers["OpenAPI document 200"]![1].body)).toMatchObject({ openapi: expect.any(String) })
  })

  it("refuses a preflight with 403 Forbidden (every origin is off the empty list), not 404, and no allow headers", async () => {
    const res = await call(node(), "OPTIONS", "/api/v1/channels", {
      headers: { origin: app, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" }
    })
    expect(res.status).toBe(403)
    expect(JSON.parse(res.body)).toMatchObject({ _tag: "Forbidden", message: expect.stringContaining("PLEXI_CORS_ALLOWED_ORIGINS") })
    expect(res.headers.get("access-control-allow-origin")).toBeNull()
    expect(res.headers.get("access-control-allow-methods")).toBeNull()
    expectSecurityHeaders("preflight", res)
  })

  it("answers OPTIONS without an Origin (not a preflight) with 204, on any path, /rpc included", async () => {
    for (const path of ["/rpc", "/api/v1/health", "/nothing/here"]) {
      const res = await call(node(), "OPTIONS", path)
      expect(res.status, path).toBe(204)
      expect(res.headers.get("access-control-allow-origin"), path).toBeNull()
      expectSecurityHeaders(path, res)
    }
  })

  it("opens a WebSocket without an Origin (a client that is not a browser) and from the node's own origin", async () => {
    expect(await upgrade(node(), undefined)).toEqual({ opened: true })
    expect(await upgrade(node(), node().url)).toEqual({ opened: true })
  })

  it("refuses an upgrade from a foreign origin (and from Origin: null) with 403 and a body, and opens no socket", async () => {
    await expect.poll(() => connections(node())).toBe(0)
    for (const origin of [foreign, "null", `${node().url.replace("127.0.0.1", "localhost")}`]) {
      const refused = await upgrade(node(), origin)
      expect(refused, origin).toMatchObject({ opened: false, status: 403 })
      if (refused.opened) continue
      expect(JSON.parse(refused.body), origin).toMatchObject({ _tag: "Forbidden", message: expect.stringContaining("PLEXI_WS_ALLOWED_ORIGINS") })
      for (const [header, value] of Object.entries(security)) expect(refused.headers[header], `${origin}: ${header}`).toBe(value)
    }
    expect(await connections(node())).toBe(0)
  })
})

describe("HTTP hardening configured (a CORS origin, a WebSocket origin, behind TLS)", () => {
  const chat = "https://chat.example"
  const node = nodeForSuite({
    env: {
      PLEXI_HTTP_MAX_BODY_BYTES: "1024",
      PLEXI_CORS_ALLOWED_ORIGINS: `${app}, http://localhost:5173`,
      PLEXI_CORS_MAX_AGE: "2 minutes",
      PLEXI_WS_ALLOWED_ORIGINS: chat,
      PLEXI_BEHIND_TLS: "true",
      PLEXI_HSTS_MAX_AGE: "1 day"
    }
  })

  it("answers a listed origin's preflight with 204 and the allow headers", async () => {
    const res = await call(node(), "OPTIONS", "/api/v1/channels", {
      headers: { origin: app, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" }
    })
    expect(res.status).toBe(204)
    expect(res.headers.get("access-control-allow-origin")).toBe(app)
    expect(res.headers.get("access-control-allow-methods")).toBe("GET, HEAD, POST, DELETE")
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization,content-type")
    expect(res.headers.get("access-control-max-age")).toBe("120")
    expect(res.headers.get("access-control-allow-credentials")).toBeNull()
    expectSecurityHeaders("preflight", res)
  })

  it("refuses an unlisted origin's preflight with 403", async () => {
    const res = await call(node(), "OPTIONS", "/rpc", { headers: { origin: foreign, "access-control-request-method": "POST" } })
    expect(res.status).toBe(403)
    expect(res.headers.get("access-control-allow-origin")).toBeNull()
  })

  it("gives every kind of answer to a listed origin its Access-Control-Allow-Origin, HSTS and the security headers", async () => {
    const answers = await sample(node(), app)
    for (const [name, [status, answer]] of Object.entries(answers)) {
      expect(answer.status, `${name}: ${answer.body.slice(0, 200)}`).toBe(status)
      expectSecurityHeaders(name, answer)
      expect(answer.headers.get("access-control-allow-origin"), name).toBe(app)
      expect(answer.headers.get("strict-transport-security"), name).toBe("max-age=86400")
      // The bridge's own 413 never reached the app: the allow-origin, not the expose list.
      if (name !== "bridge's own 413") expect(answer.headers.get("access-control-expose-headers"), name).toBe("retry-after")
    }
  })

  it("gives an unlisted origin no Access-Control-Allow-Origin, and still HSTS", async () => {
    const answers = await sample(node(), foreign)
    for (const [name, [, answer]] of Object.entries(answers)) {
      expect(answer.headers.get("access-control-allow-origin"), name).toBeNull()
      expect(answer.headers.get("strict-transport-security"), name).toBe("max-age=86400")
    }
  })

  it("opens a WebSocket from a listed origin and the node's own; refuses a CORS-only origin and a foreign one", async () => {
    expect(await upgrade(node(), chat)).toEqual({ opened: true })
    expect(await upgrade(node(), node().url)).toEqual({ opened: true })
    expect(await upgrade(node(), undefined)).toEqual({ opened: true })
    const corsOnly = await upgrade(node(), app)
    expect(corsOnly).toMatchObject({ opened: false, status: 403 })
    const refused = await upgrade(node(), foreign)
    expect(refused).toMatchObject({ opened: false, status: 403 })
    if (!refused.opened) expect(refused.headers["strict-transport-security"]).toBe("max-age=86400")
  })
})
