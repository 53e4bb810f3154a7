import { RunnerAddress } from "@effect/cluster"
import { Cause } from "effect"
import { describe, expect, it } from "vitest"
import { shouldFence } from "../../runtime/cluster/FenceDecision.ts"
import { decide, heartbeatInterval, stallAfterMs } from "../../runtime/cluster/ReapDecision.ts"
import { applicationName, applicationNameOf } from "../../runtime/cluster/RunnerSocket.ts"

const timings = { expirationMs: 2000, heartbeatMs: heartbeatInterval(2000, 500) }
const me = "10.0.0.1:24431"
const fresh = (address: string, heartbeatAgeMs = 100, hasSessions = true) => ({ address, heartbeatAgeMs, hasSessions })

describe("the reaper's decision", () => {
  it("waits for the expiration plus two heartbeat intervals before calling a runner with sessions stalled", () => {
    expect(stallAfterMs(timings)).toBe(3000)
    const runners = [fresh(me), fresh("b:1", 2999), fresh("c:1", 3001)]
    const decision = decide(me, runners, timings)
    expect(decision.stalled).toEqual(["c:1"])
    expect(decision.dead).toEqual([])
    expect([...decision.keep]).toEqual([me, "b:1"])
  })

  it("keeps its connections to its own runner address (it is live while it acts)", () => {
    // A fresh node whose own row is its only one: its connections to itself were cut every round (RollingRestart).
    expect([...decide(me, [fresh(me)], timings).keep]).toEqual([me])
  })

  it("takes a runner with no session left for dead, whatever its heartbeat", () => {
    const decision = decide(me, [fresh(me), fresh("b:1", 50, false)], timings)
    expect(decision.dead).toEqual(["b:1"])
    expect(decision.keep.has("b:1")).toBe(false)
  })

  it("does nothing, and cuts no connection, while its own heartbeat is older than half the expiration", () => {
    // A slow database: every heartbeat is older than the expiration.
    const runners = [fresh(me, 2500), fresh("b:1", 4000), fresh("c:1", 4000, false)]
    const decision = decide(me, runners, timings)
    expect(decision).toMatchObject({ mayAct: false, dead: [], stalled: [] })
    expect(decide(me, [fresh(me, 1000), fresh("b:1", 4000)], timings).mayAct).toBe(false)
    expect(decide(me, [fresh(me, 999), fresh("b:1", 4000)], timings).mayAct).toBe(true)
  })

  it("does nothing when its own row is missing", () => {
    expect(decide(me, [fresh("b:1", 9000)], timings).mayAct).toBe(false)
  })

  it("never fences itself", () => {
    const decision = decide(me, [fresh(me, 10)], timings)
    expect(decision).toMatchObject({ mayAct: true, dead: [], stalled: [] })
  })
})

describe("the runner session name", () => {
  it("fits Postgres's 63 bytes and matches for a 120-character address", () => {
    const host = `${"runner-0.plexichat-headless.very-long-namespace-name".padEnd(114, "x")}`
    const address = RunnerAddress.make(host, 24431)
    const text = `${host}:24431`
    expect(text.length).toBe(120)
    const name = applicationName(address)
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63)
    expect(name).toBe(applicationNameOf(text))
    expect(name.startsWith("plexi-runner ")).toBe(true)
    expect(applicationNameOf(`${host}:24432`)).not.toBe(name)
  })
})

describe("the fence decision", () => {
  const failure = (error: unknown) => Cause.fail(error)
  const pgError = (code: string) => Object.assign(new Error("pg"), { code })

  it("keeps the shards after a statement timeout soon after a good heartbeat", () => {
    expect(shouldFence(failure(new Cause.TimeoutException()), 600, 2000)).toBe(false)
    expect(shouldFence(failure({ _tag: "PersistenceError", cause: { _tag: "SqlError", cause: pgError("57014") } }), 600, 2000))
      .toBe(false)
  })

  it("fences after a timeout once the last good heartbeat is half the expiration old", () => {
    expect(shouldFence(failure(new Cause.TimeoutException()), 1000, 2000)).toBe(true)
  })

  it("fences after a lost session or an unknown error", () => {
    expect(shouldFence(failure({ cause: pgError("57P01") }), 10, 2000)).toBe(true)
    expect(shouldFence(failure(new Error("Connection terminated unexpectedly")), 10, 2000)).toBe(true)
    expect(shouldFence(Cause.die("boom"), 10, 2000)).toBe(true)
  })
})
