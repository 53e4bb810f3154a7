/**
 * Readiness and the graceful stop on real node processes on Postgres:
 * `/api/v1/ready` answers 200 on a node that holds shards, 503
 * `database_unreachable` while its database does not answer (a paused TCP
 * proxy in front of Postgres) and 200 again after; a node that got SIGTERM
 * answers 503 `draining` on a connection it already had, closes its
 * WebSockets with 1001 and the draining reason, and exits with 0, also while
 * a peer keeps opening runner connections (before the bounded close: exit 1
 * at the 8 s deadline); past `PLEXI_SHUTDOWN_DEADLINE` it exits with 1 at once.
 */
import { connect, type Socket } from "node:net"
import { afterAll, describe, expect, it } from "vitest"
import { drainingCloseReason } from "../../domain/Protocol.ts"
import { signedIn } from "../fixtures/AuthClient.ts"
import { WsClient } from "../fixtures/Clients.ts"
import { settledShards, waitUntil } from "../fixtures/ClusterHelpers.ts"
import { clusterForSuite } from "../fixtures/ClusterSuite.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"
import { type PausableProxy, pausableProxy } from "../fixtures/PausableProxy.ts"

const ready = async (node: NodeProcess) => {
  const res = await fetch(`${node.url}/api/v1/ready`, { signal: AbortSignal.timeout(5000) })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

/** Asks `/api/v1/ready` over one kept-alive connection, again 5 ms after each answer, and collects each answer's status line and body. */
const readinessOverOneConnection = (port: number) => {
  const answers: Array<string> = []
  const socket = connect(port, "127.0.0.1")
  let buffer = ""
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const ask = () => {
    if (!stopped && !socket.destroyed) socket.write("GET /api/v1/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
  }
  socket.on("data", (chunk) => {
    buffer += chunk.toString("latin1")
    let end: number
    while ((end = buffer.indexOf("}")) >= 0) {
      answers.push(buffer.slice(0, end + 1))
      buffer = buffer.slice(end + 1)
      timer = setTimeout(ask, 5)
    }
  })
  socket.on("error", () => {})
  return {
    answers,
    opened: new Promise<void>((resolve) => socket.once("connect", () => {
      ask()
      resolve()
    })),
    close: () => {
      stopped = true
      clearTimeout(timer)
      socket.destroy()
    }
  }
}

describe("readiness and the graceful stop", () => {
  const cluster = clusterForSuite({ prefix: "lc", size: 2 })
  let proxy: PausableProxy | undefined
  afterAll(async () => {
    await proxy?.close()
  })

  it("answers ready with the shards it holds, and 503 database_unreachable while its database does not answer", async () => {
    const url = new URL(cluster.url)
    proxy = await pausableProxy(url.hostname, Number(url.port || 5432))
    url.host = `127.0.0.1:${proxy.port}`
    const node = await startNode({ name: "lc-proxied", databaseUrl: url.toString() })
    try {
      await settledShards([...cluster.nodes, node])
      const answer = await ready(node)
      expect(answer.status).toBe(200)
      expect(answer.body).toMatchObject({ status: "ready", nodeId: "lc-proxied" })
      expect(answer.body.shards).toBeGreaterThan(0)

      proxy.pause()
      const refused = await ready(node)
      expect(refused.status).toBe(503)
      expect(refused.body).toMatchObject({ _tag: "NotReady", nodeId: "lc-proxied", reason: "database_unreachable" })
      // Liveness does not depend on the database.
      expect((await fetch(`${node.url}/api/v1/health`)).status).toBe(200)

      proxy.resume()
      await waitUntil("ready again", async () => (await ready(node)).status === 200, 30_000, 200)
    } finally {
      proxy.resume()
      await node.stop()
    }
  }, 90_000)

  it("a node given SIGTERM answers 503 draining on a kept-alive connection, closes its sockets with 1001 and the draining reason, and exits with 0", async () => {
    const [stopping] = cluster.nodes
    const { token } = await signedIn(stopping!.url, "lifecycle")
    const ws = await WsClient.connect(stopping!.wsUrl, token)
    let reason = ""
    ws.socket.once("close", (_code, why) => (reason = why.toString()))
    const probe = readinessOverOneConnection(stopping!.port)
    await probe.opened
    await waitUntil("ready answers on the kept-alive connection", () => probe.answers.some((a) => a.includes('"status":"ready"')))
      .catch((error) => { throw new Error(`${error}; answers: ${JSON.stringify(probe.answers.slice(-3))}`) })
    const before = probe.answers.length

    await stopping!.stop()
    probe.close()
    cluster.remove(stopping!)
    const after = probe.answers.slice(before)
    expect(after.some((a) => a.includes("HTTP/1.1 503 ") && a.includes('"reason":"draining"'))).toBe(true)
    // Once draining, never ready again.
    const firstDraining = after.findIndex((a) => a.includes('"reason":"draining"'))
    expect(after.slice(firstDraining).every((a) => a.includes('"reason":"draining"'))).toBe(true)
    expect(await ws.waitClosed()).toBe(1001)
    expect(reason).toBe(drainingCloseReason)
    expect(stopping!.child.exitCode).toBe(0)
  }, 60_000)

  it("exits with 0 well within its deadline while another process keeps opening connections to its runner port", async () => {
    const node = await startNode({ name: "lc-peered", databaseUrl: cluster.url })
    await settledShards([...cluster.nodes, node])
    // Connections that arrive after the runner stopped serving are kept open by the socket server; its close waited
    // for them until the deadline (exit 1 after 8 s). This peer opens one every 2 ms and never closes them.
    const opened: Array<Socket> = []
    const peer = setInterval(() => {
      const socket = connect(node.runnerPort, "127.0.0.1")
      socket.on("error", () => {})
      opened.push(socket)
    }, 2)
    const stoppedAt = Date.now()
    try {
      await node.stop()
    } finally {
      clearInterval(peer)
      for (const socket of opened) socket.destroy()
    }
    const stopMs = Date.now() - stoppedAt
    console.log(`stop with a peer opening runner connections: exited ${stopMs} ms after SIGTERM with ${node.child.exitCode}`)
    expect(node.child.exitCode).toBe(0)
    expect(stopMs).toBeLessThan(5_000)
  }, 60_000)

  it("exits with 1 once PLEXI_SHUTDOWN_DEADLINE has passed, however far its stop got", async () => {
    const node = await startNode({ name: "lc-deadline", databaseUrl: cluster.url, env: { PLEXI_SHUTDOWN_DEADLINE: "1 millis" } })
    await settledShards([...cluster.nodes, node])
    const stoppedAt = Date.now()
    await node.stop()
    console.log(`deadline stop: exited ${Date.now() - stoppedAt} ms after SIGTERM with ${node.child.exitCode}`)
    expect(node.child.exitCode).toBe(1)
    expect(node.output()).toContain("graceful stop exceeded PLEXI_SHUTDOWN_DEADLINE (1 ms): exiting now")
  }, 60_000)
})
