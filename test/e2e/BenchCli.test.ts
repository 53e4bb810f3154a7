/**
 * `plexichat bench` run as a child process (the compiled bin) against a real
 * embedded node: a short load whose every post is acknowledged and delivered
 * to every client, with its figures in `--json`; the node's status then shows
 * its commit latency; the bench accounts disabled
 * afterwards; and the exit codes of a bad flag and of no credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adminCli } from "../fixtures/AdminCli.ts"
import { authClient } from "../fixtures/AuthClient.ts"
import { type NodeProcess, startNode } from "../fixtures/NodeProcess.ts"

const password = "a long and unusual passphrase"

describe("plexichat bench against an embedded node", () => {
  let node: NodeProcess
  const cli = adminCli()
  beforeAll(async () => {
    // A per-user post budget the first run stays within (8 posts per account) and the refusal test goes past.
    node = await startNode({ env: { PLEXI_POST_RATE_LIMIT: "5", PLEXI_POST_RATE_BURST: "10" } })
    await authClient(node.url).signUp("bench-owner", password)
  })
  afterAll(async () => {
    await node?.stop()
    cli.remove()
  })

  it("posts at the rate over the channels and reports msgs/s, ack and delivery latency with every post delivered to every client", async () => {
    const args = ["bench", "--url", node.url, "--username", "bench-owner", "--clients", "3", "--channels", "2", "--rate", "12", "--duration", "2"]
    const report = await cli.json(args, { PLEXI_PASSWORD: password })
    expect(report).toMatchObject({ url: node.url, clients: 3, channels: 2, sent: 24, acked: 24, errors: {}, unanswered: 0, delivered: 72, expectedDeliveries: 72 })
    expect(report.msgsPerSec).toBeGreaterThan(6)
    console.log(`bench: ${report.msgsPerSec} msgs/s, ack p50 ${report.ackLatencyMs.p50} / p99 ${report.ackLatencyMs.p99} ms, ` +
      `delivery p50 ${report.deliveryLatencyMs.p50} / p99 ${report.deliveryLatencyMs.p99} ms`)
    expect(report.ackLatencyMs).toMatchObject({ samples: 24, p50: expect.any(Number), p99: expect.any(Number) })
    expect(report.deliveryLatencyMs).toMatchObject({ samples: 72, p50: expect.any(Number), p99: expect.any(Number) })
    expect(report.ackLatencyMs.p99).toBeGreaterThanOrEqual(report.ackLatencyMs.p50)
    // The node's status now reports the group commit's latency over about the last 10 s.
    const status = await cli.json(["status", "--url", node.url, "--username", "bench-owner"], { PLEXI_PASSWORD: password })
    expect(status.cluster.answeredBy.commitLatency).toMatchObject({ count: expect.any(Number), p50Ms: expect.any(Number), p99Ms: expect.any(Number) })
    expect(status.cluster.answeredBy.commitLatency.count).toBeGreaterThan(0)
    expect(status.cluster.answeredBy.commitLatency.p99Ms).toBeGreaterThanOrEqual(status.cluster.answeredBy.commitLatency.p50Ms)
    // The bench accounts are disabled once the run is over.
    const accounts = await cli.json(["users", "list", "--url", node.url, "--username", "bench-owner"], { PLEXI_PASSWORD: password })
    const bench = accounts.filter((a: { username: string }) => a.username.startsWith("bench-") && a.username !== "bench-owner")
    expect(bench).toHaveLength(3)
    for (const account of bench) expect(account).toMatchObject({ role: "member", disabled: true })
    // Table output by default.
    const human = await cli.run(args.map((a) => (a === "2" ? "1" : a)), { PLEXI_PASSWORD: password })
    expect(human.stdout).toMatch(/acked 12\/12, refused 0/)
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/msgs\/s [\d.]+ \(acknowledged\)/)
    expect(human.stdout).toMatch(/post → delivery {2}p50 [\d.]+ ms, p99 [\d.]+ ms/)
  }, 120_000)

  it("exits 1 with the report when posts are refused: one account posting past its post budget", async () => {
    const run = await cli.run(["bench", "--url", node.url, "--username", "bench-owner", "--clients", "1", "--channels", "1", "--rate", "40", "--duration", "1", "--json"], {
      PLEXI_PASSWORD: password
    })
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr).toContain("some posts were refused or unanswered")
    const report = JSON.parse(run.stdout)
    expect(report.errors.rate_limited).toBeGreaterThan(0)
    expect(report.acked + report.errors.rate_limited).toBe(40)
    expect(report).toMatchObject({ sent: 40, unanswered: 0, delivered: report.acked })
  }, 60_000)

  it("exits 2 on a bad flag and 4 without credentials, before any load", async () => {
    const bad = await cli.run(["bench", "--url", node.url, "--clients", "0"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("--clients: 1 to 1000")
    const anonymous = await cli.run(["bench", "--url", node.url])
    expect(anonymous.code).toBe(4)
    expect(anonymous.stderr).toContain("not signed in")
  }, 60_000)
})
