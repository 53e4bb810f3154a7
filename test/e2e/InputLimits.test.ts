/**
 * Input limits at the HTTP edge that the issue lists, checked from outside
 * on a real node: a 20 MB POST is refused with 413 without being read into
 * memory; headers over PLEXI_HTTP_MAX_HEADER_BYTES get 431 HeadersTooLarge
 * before any handler runs, and a block past uWS's own cap (about 64 KiB) has
 * its connection dropped; the node keeps serving.
 */
import { readFileSync } from "node:fs"
import { connect } from "node:net"
import { describe, expect, it } from "vitest"
import { nodeForSuite } from "../fixtures/NodeSuite.ts"
import type { NodeProcess } from "../fixtures/NodeProcess.ts"

/** Resident memory of the node process, in bytes. */
const rssOf = (node: NodeProcess) => {
  const line = readFileSync(`/proc/${node.child.pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))
  return Number(/(\d+)/.exec(line ?? "")![1]) * 1024
}

/** Writes `head` then up to `bodyBytes` of body while the server reads; resolves with the status line (or "closed"). */
const exchange = (node: NodeProcess, head: string, bodyBytes = 0): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = connect(node.port, "127.0.0.1")
    let answer = ""
    let sent = 0
    const chunk = Buffer.alloc(64 * 1024, 120)
    const pump = () => {
      while (sent < bodyBytes && !socket.destroyed) {
        sent += chunk.length
        if (!socket.write(chunk)) return void socket.once("drain", pump)
      }
    }
    socket.on("connect", () => {
      socket.write(head)
      pump()
    })
    socket.on("data", (d: Buffer) => {
      answer += d.toString()
      if (answer.includes("\r\n")) {
        resolve(answer.slice(0, answer.indexOf("\r\n")))
        socket.destroy()
      }
    })
    socket.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" || e.code === "EPIPE" ? resolve(answer || "closed") : reject(e)))
    socket.on("close", () => resolve(answer || "closed"))
  })

describe("HTTP input limits", () => {
  const node = nodeForSuite()

  it("refuses a 20 MB POST with 413 without reading it into memory", async () => {
    const before = rssOf(node())
    const size = 20 * 1024 * 1024
    const status = await exchange(node(), `POST /api/v1/channels HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n`, size)
    expect(status).toMatch(/^HTTP\/1\.1 413/)
    // The node holds nothing like 20 MB more afterwards.
    expect(rssOf(node()) - before).toBeLessThan(10 * 1024 * 1024)
    expect((await fetch(`${node().url}/api/v1/health`)).status).toBe(200)
  }, 60_000)

  it("answers 431 HeadersTooLarge to headers over the limit (16 KiB), drops a block past uWS's cap, and keeps serving", async () => {
    const big = await fetch(`${node().url}/api/v1/health`, { headers: { "x-big": "a".repeat(17 * 1024) } })
    expect(big.status).toBe(431)
    expect(await big.json()).toMatchObject({ _tag: "HeadersTooLarge", maxBytes: 16 * 1024 })
    expect((await fetch(`${node().url}/api/v1/health`, { headers: { "x-fits": "a".repeat(15 * 1024) } })).status).toBe(200)
    const post = await fetch(`${node().url}/api/v1/channels`, {
      method: "POST",
      headers: { "x-big": "a".repeat(17 * 1024), "content-type": "application/json" },
      body: JSON.stringify({ name: "never" })
    })
    expect(post.status).toBe(431)
    const huge = await exchange(node(), `GET /api/v1/health HTTP/1.1\r\nhost: x\r\nx-huge: ${"a".repeat(200 * 1024)}\r\n\r\n`)
    expect(huge).toBe("closed")
    expect((await fetch(`${node().url}/api/v1/health`)).status).toBe(200)
  }, 60_000)
})
