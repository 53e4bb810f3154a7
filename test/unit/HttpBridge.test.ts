/**
 * The uWS bridge on a real uWS app and real sockets: whatever a handler does,
 * the process keeps running, the client gets a typed answer, and the defect
 * is reported; a client that goes away aborts its request's signal.
 */
import { afterEach, describe, expect, it } from "vitest"
import type { us_listen_socket } from "uWebSockets.js"
import { bridge, type BridgeOptions, type WebHandler } from "../../runtime/edge/HttpBridge.ts"
import { uws } from "../../runtime/edge/Uws.ts"

const sockets: Array<us_listen_socket> = []
afterEach(() => {
  for (const s of sockets.splice(0)) uws.us_listen_socket_close(s)
})

const serve = async (handler: WebHandler, maxBodyBytes = 1024, options: Partial<BridgeOptions> = {}) => {
  const defects: Array<unknown> = []
  const app = uws.App()
  app.any("/*", bridge(handler, { maxBodyBytes, onDefect: (e) => defects.push(e), ...options }))
  const socket = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen("127.0.0.1", 0, (s) => (s === false ? reject(new Error("listen failed")) : resolve(s))))
  sockets.push(socket)
  return { url: `http://127.0.0.1:${uws.us_socket_local_port(socket)}`, defects }
}

describe("HttpBridge", () => {
  it("answers 500 InternalError and reports the defect when the handler throws synchronously", async () => {
    const { defects, url } = await serve(() => {
      throw new Error("boom")
    })
    const res = await fetch(`${url}/x`)
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ _tag: "InternalError", message: expect.any(String) })
    expect(String(defects[0])).toContain("boom")
  })

  it("answers 500 InternalError when the handler's promise rejects, and keeps serving", async () => {
    let calls = 0
    const { defects, url } = await serve(async () => {
      if (calls++ === 0) throw new Error("rejected")
      return new Response("fine")
    })
    expect((await fetch(`${url}/x`, { method: "POST", body: "{}" })).status).toBe(500)
    expect(defects).toHaveLength(1)
    const again = await fetch(`${url}/x`)
    expect(again.status).toBe(200)
    expect(await again.text()).toBe("fine")
  })

  it("cuts a streamed response short when its body fails mid-way, and reports it", async () => {
    const { defects, url } = await serve(async () =>
      new Response(new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("part"))
          setImmediate(() => controller.error(new Error("stream broke")))
        }
      }))
    )
    const res = await fetch(`${url}/x`)
    expect(res.status).toBe(200)
    await expect(res.text()).rejects.toThrow()
    await expect.poll(() => defects.map(String).join()).toContain("stream broke")
  })

  it("answers 413 PayloadTooLarge with maxBytes to a body over the limit", async () => {
    const { url } = await serve(async () => new Response("never"), 16)
    const res = await fetch(`${url}/x`, { method: "POST", body: "x".repeat(64) })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ _tag: "PayloadTooLarge", maxBytes: 16 })
  })

  it("aborts the request's signal when the client goes away", async () => {
    let aborted = false
    let started!: () => void
    const running = new Promise<void>((resolve) => (started = resolve))
    const { url } = await serve((request) =>
      new Promise<Response>((resolve) => {
        request.signal.addEventListener("abort", () => {
          aborted = true
          resolve(new Response("late"))
        })
        started()
      })
    )
    const client = new AbortController()
    const pending = fetch(`${url}/x`, { signal: client.signal })
    await running
    client.abort()
    await expect(pending).rejects.toThrow()
    await expect.poll(() => aborted).toBe(true)
  })

  it("writes its headers on the handler's answers (unless the handler set one itself) and on its own refusals", async () => {
    const { url } = await serve(
      async (request) =>
        request.url.endsWith("/page")
          ? new Response("<p>", { headers: { "content-type": "text/html", "content-security-policy": "default-src 'self'" } })
          : new Response("{}", { headers: { "content-type": "application/json" } }),
      16,
      {
        headers: [["x-content-type-options", "nosniff"], ["content-security-policy", "default-src 'none'"]],
        refusalHeaders: (request) => [["x-seen-origin", request.get("origin") ?? "none"]]
      }
    )
    const plain = await fetch(`${url}/x`, { headers: { origin: "https://a.example" } })
    expect(plain.headers.get("x-content-type-options")).toBe("nosniff")
    expect(plain.headers.get("content-security-policy")).toBe("default-src 'none'")
    // Refusal headers are for the bridge's own answers only: the handler's answer has its own CORS headers.
    expect(plain.headers.get("x-seen-origin")).toBeNull()
    const page = await fetch(`${url}/page`)
    expect(page.headers.get("content-security-policy")).toBe("default-src 'self'")
    expect(page.headers.get("x-content-type-options")).toBe("nosniff")
    const refused = await fetch(`${url}/x`, { method: "POST", headers: { origin: "https://a.example" }, body: "x".repeat(64) })
    expect(refused.status).toBe(413)
    expect(refused.headers.get("x-content-type-options")).toBe("nosniff")
    expect(refused.headers.get("x-seen-origin")).toBe("https://a.example")
  })
})
