/**
 * Hostile and malformed HTTP requests against a real node process: each gets
 * a typed 4xx JSON error (docs: README "HTTP errors", the OpenAPI document),
 * and the node is still the same process, answering health, afterwards.
 */
import { connect } from "node:net"
import { describe, expect, it } from "vitest"
import { signedIn } from "../fixtures/AuthClient.ts"
import type { NodeProcess } from "../fixtures/NodeProcess.ts"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"

interface RawResponse {
  readonly status: number
  readonly headers: string
  readonly body: string
}

/** Sends raw bytes on a fresh TCP socket and reads one HTTP/1.1 response (`Connection: close`). */
const rawRequest = (node: NodeProcess, head: Buffer, body: Buffer = Buffer.alloc(0)): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const socket = connect(node.port, "127.0.0.1")
    const chunks: Array<Buffer> = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no response in 10 s: ${Buffer.concat(chunks).toString("latin1")}`))
    }, 10_000)
    socket.on("data", (chunk) => chunks.push(chunk))
    socket.on("error", reject)
    socket.on("close", () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString("utf8")
      const split = text.indexOf("\r\n\r\n")
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
      const headers = split < 0 ? text : text.slice(0, split)
      let rest = split < 0 ? "" : text.slice(split + 4)
      if (/transfer-encoding: chunked/i.test(headers)) {
        let decoded = ""
        while (rest.length > 0) {
          const lineEnd = rest.indexOf("\r\n")
          const size = parseInt(rest.slice(0, lineEnd), 16)
          if (!(size > 0)) break
          decoded += rest.slice(lineEnd + 2, lineEnd + 2 + size)
          rest = rest.slice(lineEnd + 2 + size + 2)
        }
        rest = decoded
      }
      resolve({ status, headers, body: rest })
    })
    // Head and body in two writes, as a client streaming its body does (the server may answer before the body).
    socket.write(head)
    if (body.length > 0) socket.write(body)
  })

/**
 * Sends raw bytes and returns everything the server sent until it closed the
 * connection; `later` is sent once the first response bytes arrived.
 */
const rawExchange = (node: NodeProcess, bytes: Buffer, later?: Buffer): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = connect(node.port, "127.0.0.1")
    const chunks: Array<Buffer> = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`connection not closed in 10 s: ${Buffer.concat(chunks).toString("latin1")}`))
    }, 10_000)
    socket.on("data", (chunk) => {
      chunks.push(chunk)
      if (later !== undefined && chunks.length === 1) socket.write(later)
    })
    socket.on("error", reject)
    socket.on("close", () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString("latin1"))
    })
    socket.write(bytes)
  })

const json = async (res: Response) => ({ status: res.status, body: JSON.parse(await res.text()) as Record<string, unknown> })

const rpc = (node: NodeProcess, token: string, body: string) =>
  fetch(`${node.url}/rpc`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/ndjson" },
    body
  })

const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth)

describe("hostile HTTP requests", () => {
  const node = nodeForSuite()

  const stillServing = async () => {
    expect(node().child.exitCode).toBeNull()
    expect((await fetch(`${node().url}/api/v1/health`)).status).toBe(200)
  }

  it.each(["/api/v1/health", "/rpc"])("answers 400 InvalidRequest to an invalid UTF-8 byte in a header of %s and keeps running", async (path) => {
    const head = Buffer.concat([
      Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-A: a`, "latin1"),
      Buffer.from([0xe9]),
      Buffer.from("b\r\n\r\n", "latin1")
    ])
    const res = await rawRequest(node(), head)
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body)).toMatchObject({ _tag: "InvalidRequest", message: expect.stringContaining("header") })
    await stillServing()
  })

  it("answers HEAD with the GET's status and headers and no body, so the next request on the connection is read right", async () => {
    // The GET goes out once the HEAD's answer arrived, on the same keep-alive connection.
    const text = await rawExchange(
      node(),
      Buffer.from("HEAD /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "latin1"),
      Buffer.from("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", "latin1")
    )
    // Nothing follows the HEAD's header block but the GET's answer (a body there would be read as a response).
    const split = text.indexOf("\r\n\r\n")
    const head = text.slice(0, split)
    const next = text.slice(split + 4)
    expect(head).toMatch(/^HTTP\/1\.1 200 /)
    expect(head).toMatch(/content-type: application\/json/i)
    expect(head).not.toMatch(/transfer-encoding/i)
    // The GET's body is not empty: a HEAD answer must not claim it is.
    expect(head).not.toMatch(/content-length: *0\r?$/im)
    expect(next, next.slice(0, 80)).toMatch(/^HTTP\/1\.1 200 /)
    expect(next).toContain(`"status":"ok"`)
    await stillServing()
  })

  it("answers a refused HEAD (a bad header byte) with its status and no body, and serves the next request on the connection", async () => {
    const text = await rawExchange(
      node(),
      Buffer.concat([Buffer.from("HEAD /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a", "latin1"), Buffer.from([0xe9]), Buffer.from("b\r\n\r\n")]),
      Buffer.from("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", "latin1")
    )
    const split = text.indexOf("\r\n\r\n")
    expect(text.slice(0, split)).toMatch(/^HTTP\/1\.1 400 /)
    const next = text.slice(split + 4)
    expect(next, next.slice(0, 80)).toMatch(/^HTTP\/1\.1 200 /)
    await stillServing()
  })

  it.each([
    ["GET", "content-length"],
    ["HEAD", "content-length"],
    ["GET", "chunked"],
    ["HEAD", "chunked"]
  ])("reads and drops the body of a %s that carries one (%s), then serves the next request on the connection", async (method, framing) => {
    // The body comes after the answer to the head: the node must read it, not close with it unread.
    const data = "x".repeat(100_000)
    const chunked = framing === "chunked"
    const body = chunked ? `${data.length.toString(16)}\r\n${data}\r\n0\r\n\r\n` : data
    const framingHeader = chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${body.length}`
    const text = await rawExchange(
      node(),
      Buffer.from(`${method} /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n${framingHeader}\r\n\r\n`, "latin1"),
      Buffer.from(`${body}GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, "latin1")
    )
    const all = text.split("HTTP/1.1 ").length - 1
    expect(all, text.slice(0, 400)).toBe(2)
    expect(text.startsWith("HTTP/1.1 200")).toBe(true)
    expect(text.lastIndexOf("HTTP/1.1 200")).toBeGreaterThan(0)
    await stillServing()
  })

  it("answers 415 UnsupportedMediaType to a multipart REST body", async () => {
    const { token } = await signedIn(node().url, "multipart")
    const form = new FormData()
    form.set("name", "x")
    const res = await json(await fetch(`${node().url}/api/v1/channels`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: form
    }))
    expect(res).toMatchObject({ status: 415, body: { _tag: "UnsupportedMediaType" } })
    await stillServing()
  })

  it("answers 400 HttpApiDecodeError to NUL or a lone surrogate in a channel name, device name or post (REST), and RPC refuses them typed", async () => {
    const { token } = await signedIn(node().url, "nul-rest")
    const post = (path: string, body: unknown, bearer = token) =>
      fetch(`${node().url}/api/v1${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
        body: JSON.stringify(body)
      }).then(json)
    for (const bad of ["a\u0000b", "k\ud800"]) {
      expect(await post("/channels", { name: bad })).toMatchObject({ status: 400, body: { _tag: "HttpApiDecodeError" } })
      expect(await post("/auth/register", { username: "nul-name", password: "a long enough passphrase", deviceName: bad }))
        .toMatchObject({ status: 400, body: { _tag: "HttpApiDecodeError" } })
    }
    const channel = await post("/channels", { name: "clean" })
    expect(channel.status).toBe(201)
    const channelId = (channel.body as { id: string }).id
    for (const bad of ["a\u0000b", "k\ud800", "k\udc00"]) {
      expect(await post(`/channels/${channelId}/messages`, { clientMsgId: `id-${bad.length}`, body: bad }))
        .toMatchObject({ status: 400, body: { _tag: "HttpApiDecodeError" } })
      expect(await post(`/channels/${channelId}/messages`, { clientMsgId: bad, body: "ok" }))
        .toMatchObject({ status: 400, body: { _tag: "HttpApiDecodeError" } })
    }
    const line = JSON.stringify({ _tag: "Request", id: "7", tag: "PostMessage", payload: { channelId, clientMsgId: "k\ud800", body: "x" }, headers: [] })
    const rpcRes = await json(await rpc(node(), token, `${line}\n`))
    expect(rpcRes.status).toBe(400)
    // Nothing was stored, and a clean post still gets seq 1.
    expect(await post(`/channels/${channelId}/messages`, { clientMsgId: "fine", body: "😀 fine" }))
      .toMatchObject({ status: 201, body: { seq: 1, body: "😀 fine" } })
    await stillServing()
  })

  it("answers 400 InvalidRequest to a REST body that is not JSON", async () => {
    const { token } = await signedIn(node().url, "not-json")
    const res = await json(await fetch(`${node().url}/api/v1/channels`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{\"name\":"
    }))
    expect(res).toMatchObject({ status: 400, body: { _tag: "InvalidRequest" } })
  })

  it("answers 400 InvalidRequest to a 3,000-deep JSON body, on REST and on RPC, and keeps running", async () => {
    const { token } = await signedIn(node().url, "deep")
    const restDeep = await json(await fetch(`${node().url}/api/v1/channels`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: `{"name":${deep(3000)}}`
    }))
    expect(restDeep).toMatchObject({ status: 400, body: { _tag: "InvalidRequest", message: expect.stringContaining("deep") } })
    const rpcDeep = await json(await rpc(node(), token,
      `{"_tag":"Request","id":"1","tag":"Me","payload":${deep(3000)},"headers":[]}\n`))
    expect(rpcDeep).toMatchObject({ status: 400, body: { _tag: "InvalidRequest", message: expect.stringContaining("deep") } })
    await stillServing()
  })

  it("answers 400 InvalidRequest with a readable sentence to a bad RPC id, payload, tag or line", async () => {
    const { token } = await signedIn(node().url, "bad-rpc")
    const badId = await json(await rpc(node(), token, `{"_tag":"Request","id":"abc","tag":"Me","payload":{},"headers":[]}\n`))
    expect(badId).toMatchObject({ status: 400, body: { _tag: "InvalidRequest", message: expect.stringContaining("id") } })
    expect(String(badId.body.message)).not.toContain("BigInt")

    const badPayload = await json(await rpc(node(), token,
      `{"_tag":"Request","id":"1","tag":"History","payload":{"channelId":5},"headers":[]}\n`))
    expect(badPayload).toMatchObject({ status: 400, body: { _tag: "InvalidRequest", message: expect.stringContaining("channelId") } })
    expect(String(badPayload.body.message)).not.toContain("└─")

    const badTag = await json(await rpc(node(), token, `{"_tag":"Request","id":"1","tag":"Nope","payload":{},"headers":[]}\n`))
    expect(badTag).toMatchObject({ status: 400, body: { _tag: "InvalidRequest", message: expect.stringContaining("Nope") } })

    const garbage = await json(await rpc(node(), token, "garbage\n"))
    expect(garbage).toMatchObject({ status: 400, body: { _tag: "InvalidRequest" } })

    const unterminated = await json(await rpc(node(), token, `{"_tag":"Request","id":"1","tag":"Me","payload":{},"headers":[]}`))
    expect(unterminated).toMatchObject({ status: 400, body: { _tag: "InvalidRequest", message: expect.stringContaining("newline") } })

    const empty = await json(await rpc(node(), token, ""))
    expect(empty).toMatchObject({ status: 400, body: { _tag: "InvalidRequest", message: expect.stringContaining("no RPC message") } })

    // A well-formed call on the same door still works.
    const ok = await rpc(node(), token, `{"_tag":"Request","id":"7","tag":"Me","payload":{},"headers":[]}\n`)
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain(`"requestId":"7"`)
  })

  it("answers one readable issue to an out-of-range REST limit", async () => {
    const { token } = await signedIn(node().url, "limits")
    const res = await json(await fetch(`${node().url}/api/v1/channels/c_none/messages?limit=0`, {
      headers: { authorization: `Bearer ${token}` }
    }))
    expect(res).toMatchObject({ status: 400, body: { _tag: "HttpApiDecodeError" } })
    expect(res.body.issues).toEqual([expect.objectContaining({ path: ["limit"], message: expect.stringContaining("between 1 and 1000") })])
    expect(res.body.message).toBe("limit: Expected a number between 1 and 1000, actual 0")
  })

  it("answers a refused REST field with a short readable message that does not echo the value whole", async () => {
    const { token } = await signedIn(node().url, "long-name")
    const res = await json(await fetch(`${node().url}/api/v1/channels`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(100_000) })
    }))
    expect(res).toMatchObject({ status: 400, body: { _tag: "HttpApiDecodeError", message: expect.stringMatching(/^name: /) } })
    expect(JSON.stringify(res.body).length).toBeLessThan(2_000)
    expect(String(res.body.message)).not.toContain("└─")
  })

  it("answers 400 InvalidRequest to an empty body on an operation that takes one, with or without a content type, and keeps running", async () => {
    const { token } = await signedIn(node().url, "empty-body")
    const noType = await rawRequest(node(), Buffer.from(
      `POST /api/v1/channels/c_empty/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
        `Authorization: Bearer ${token}\r\nContent-Length: 0\r\n\r\n`,
      "latin1"
    ))
    expect(noType.status).toBe(400)
    expect(JSON.parse(noType.body)).toMatchObject({ _tag: "InvalidRequest", message: expect.stringContaining("empty") })
    const jsonType = await json(await fetch(`${node().url}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: ""
    }))
    expect(jsonType).toMatchObject({ status: 400, body: { _tag: "InvalidRequest", message: expect.stringContaining("empty") } })
    // An operation without a payload still takes an empty body.
    const created = await json(await fetch(`${node().url}/api/v1/channels`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "empty body" })
    }))
    const join = await fetch(`${node().url}/api/v1/channels/${String(created.body.id)}/join`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` }
    })
    expect(join.status).toBe(200)
    await stillServing()
  })

  it("answers 400 HttpApiDecodeError with a clipped path issue to a path id that breaks the id schema, never echoing it whole", async () => {
    const { token } = await signedIn(node().url, "long-id")
    const id = `c_${"x".repeat(298)}`
    for (const path of [`/api/v1/channels/${id}/leave`, `/api/v1/channels/${id}/messages`]) {
      const res = await json(await fetch(`${node().url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ clientMsgId: "m1", body: "hi" })
      }))
      expect(res, path).toMatchObject({ status: 400, body: { _tag: "HttpApiDecodeError", message: expect.stringMatching(/^channelId: /) } })
      expect(res.body.issues).toEqual([expect.objectContaining({ path: ["channelId"] })])
      expect(JSON.stringify(res.body)).not.toContain(id)
    }
    const history = await json(await fetch(`${node().url}/api/v1/channels/bad%20id/messages`, { headers: { authorization: `Bearer ${token}` } }))
    expect(history).toMatchObject({ status: 400, body: { _tag: "HttpApiDecodeError", message: expect.stringMatching(/^channelId: /) } })
    // An unknown route stays 404, and its message does not carry a long path whole.
    const unknown = await json(await fetch(`${node().url}/api/v1/channels/${id}/nope`, { method: "POST" }))
    expect(unknown).toMatchObject({ status: 404, body: { _tag: "NotFound" } })
    expect(JSON.stringify(unknown.body)).not.toContain(id)
    const doc = await (await fetch(`${node().url}/api/v1/openapi.json`)).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
    }
    expect(JSON.stringify(doc.paths["/api/v1/channels/{channelId}/leave"]!.post!.responses["400"])).toContain("HttpApiDecodeError")
    await stillServing()
  })

  it("answers 405 MethodNotAllowed with Allow: POST to GET /rpc", async () => {
    const res = await fetch(`${node().url}/rpc`)
    expect(res.status).toBe(405)
    expect(res.headers.get("allow")).toBe("POST")
    expect(await res.json()).toMatchObject({ _tag: "MethodNotAllowed" })
  })

  it("answers 404 NotFound with a typed body to an unknown path, inside and outside /api/v1", async () => {
    for (const path of ["/api/v1/nope", "/nope"]) {
      const res = await json(await fetch(`${node().url}${path}`))
      expect(res, path).toMatchObject({ status: 404, body: { _tag: "NotFound" } })
    }
  })

  it("answers 413 PayloadTooLarge to a body over the limit", async () => {
    const res = await json(await fetch(`${node().url}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "x".repeat(2 * 1024 * 1024), password: "a long enough passphrase" })
    }))
    expect(res).toMatchObject({ status: 413, body: { _tag: "PayloadTooLarge" } })
  })

  it("answers 413 PayloadTooLarge that the client receives, not a reset, when it declares and sends a body just over the limit", async () => {
    const size = 1024 * 1024 + 8
    for (const path of ["/api/v1/auth/register", "/api/v1/channels/c_none/messages"]) {
      for (const method of ["POST", "PUT"]) {
        for (let i = 0; i < 4; i++) {
          const head = Buffer.from(
            `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
              `Content-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
            "latin1"
          )
          const res = await rawRequest(node(), head, Buffer.alloc(size, 0x68))
          expect(res.status, `${method} ${path} #${i}`).toBe(413)
          expect(JSON.parse(res.body)).toMatchObject({ _tag: "PayloadTooLarge" })
        }
      }
    }
    await stillServing()
  })

  it("answers 400 to a bad header byte on a request with a 3 MiB body, which the client receives, not a reset", async () => {
    const size = 3 * 1024 * 1024
    for (let i = 0; i < 4; i++) {
      const head = Buffer.concat([
        Buffer.from("POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nUser-Agent: a", "latin1"),
        Buffer.from([0xa9, 0x95]),
        Buffer.from(`b\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`, "latin1")
      ])
      const res = await rawRequest(node(), head, Buffer.alloc(size, 0x68))
      expect(res.status, `#${i}`).toBe(400)
      expect(JSON.parse(res.body)).toMatchObject({ _tag: "InvalidRequest" })
    }
    await stillServing()
  })

  it("documents the history limit bounds and the request errors in the OpenAPI document", async () => {
    const doc = await (await fetch(`${node().url}/api/v1/openapi.json`)).json() as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; schema: Record<string, unknown> }>; responses: Record<string, unknown> }>>
    }
    const history = doc.paths["/api/v1/channels/{channelId}/messages"]!.get!
    const limit = history.parameters!.find((p) => p.name === "limit")!
    expect(JSON.stringify(limit.schema)).toMatch(/"minimum":1\b/)
    expect(JSON.stringify(limit.schema)).toMatch(/"maximum":1000\b/)
    const afterSeq = history.parameters!.find((p) => p.name === "afterSeq")!
    expect(JSON.stringify(afterSeq.schema)).toMatch(/"minimum":0\b/)
    const post = doc.paths["/api/v1/channels/{channelId}/messages"]!.post!
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(["400", "413", "415"]))
  })
})
