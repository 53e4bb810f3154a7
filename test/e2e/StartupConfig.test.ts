/**
 * A node with a bad setting refuses to start: it exits non-zero before it
 * listens, and its output names the variable. Real node processes.
 *
 * The tests are independent, so they run concurrently, two node starts at a
 * time: a start is mostly loading the node's modules, CPU-bound on a 2-core
 * machine, so more at once would only slow each other (and the other test
 * file vitest runs beside this one).
 */
import { describe, it } from "vitest"
import { type NodeProcess, type StartOptions, startNode } from "../fixtures/NodeProcess.ts"

let freeSlots = 2
const waiting: Array<() => void> = []

/** Runs `start` once one of the `freeSlots` node starts is free. */
const inSlot = async <A>(start: () => Promise<A>): Promise<A> => {
  if (freeSlots > 0) freeSlots--
  else await new Promise<void>((resolve) => waiting.push(resolve))
  try {
    return await start()
  } finally {
    const next = waiting.shift()
    if (next === undefined) freeSlots++
    else next()
  }
}

/** Starts a node that must not come up (on an empty data directory: it stops before it opens a store); returns the fixture's report (exit code and output). */
const refusedStart = (options: StartOptions): Promise<string> =>
  inSlot(async () => {
    let node: NodeProcess | undefined
    try {
      node = await startNode({ ...options, freshStore: true })
    } catch (error) {
      return String(error)
    } finally {
      await node?.stop()
    }
    throw new Error(`the node started with ${JSON.stringify(options.env)}`)
  })

const exitedNonZero = /exited with [1-9]\d* before (listening|it was ready)/

describe.concurrent("node start-up configuration", () => {
  it("refuses malformed access-token signing keys with a start-up error naming the variable, not the secret", async ({ expect }) => {
    const report = await refusedStart({ env: { PLEXI_AUTH_SIGNING_KEYS: "k1=too-short-a-secret" } })
    expect(report).toMatch(exitedNonZero)
    expect(report).toMatch(/PLEXI_AUTH_SIGNING_KEYS: the secret of key k1 is shorter than 32 characters/)
    expect(report).not.toContain("too-short-a-secret")
  }, 60_000)

  it("refuses an unknown PLEXI_LOG_LEVEL with a start-up error naming the variable", async ({ expect }) => {
    const report = await refusedStart({ env: { PLEXI_LOG_LEVEL: "loud" } })
    expect(report).toMatch(exitedNonZero)
    expect(report).toMatch(/PLEXI_LOG_LEVEL/)
  }, 60_000)

  // A rate of 0 or a negative size is a start-up error naming the variable (issue 5: validated config modules).
  it.for<[string, string]>([
    ["PLEXI_WS_RATE_LIMIT", "0"],
    ["PLEXI_WS_RATE_BURST", "-1"],
    ["PLEXI_API_RATE_LIMIT", "0"],
    ["PLEXI_API_RATE_BURST", "-5"],
    ["PLEXI_WS_MAX_FRAME_BYTES", "-1"],
    ["PLEXI_WS_MAX_BACKPRESSURE_BYTES", "0"],
    ["PLEXI_WS_IDLE_TIMEOUT_SECONDS", "-1"],
    ["PLEXI_COMMIT_FLUSHERS", "0"],
    ["PLEXI_SHARDS_PER_GROUP", "0"],
    ["PLEXI_WS_MAX_CONNECTIONS_PER_IP", "0"],
    ["PLEXI_HUB_RING_SIZE", "0"],
    ["PLEXI_CHANNEL_WINDOW", "0"],
    ["PORT", "70000"],
    ["PLEXI_AUTH_ACCESS_TTL", "0 seconds"]
  ])("refuses %s=%s with a start-up error naming the variable", { timeout: 60_000 }, async ([name, value], { expect }) => {
    const report = await refusedStart({ env: { [name]: value } })
    expect(report).toMatch(exitedNonZero)
    expect(report).toContain(name)
  })
})
