import { describe, expect, it } from "vitest"
import { ConnectionLimits } from "../../src/gateway/ConnectionLimits.ts"

describe("ConnectionLimits", () => {
  it("refuses past each per-address limit, frees slots on auth and close, and logs at most once per interval", () => {
    const logs: Array<string> = []
    const limits = new ConnectionLimits({ maxPerIp: 3, maxUnauthenticatedPerIp: 2, logIntervalMs: 1000 }, (m) => void logs.push(m))
    limits.opened("a", false)
    limits.opened("a", false)
    expect(limits.check("a", false, 0)).toBe("unauthenticated_per_ip")
    expect(limits.check("a", true, 0)).toBeUndefined()
    expect(limits.check("b", false, 0)).toBeUndefined()
    limits.opened("a", true)
    expect(limits.check("a", true, 10)).toBe("connections_per_ip")
    expect(limits.check("a", true, 20)).toBe("connections_per_ip")
    expect(logs).toHaveLength(2)
    expect(logs[1]).toContain("connections_per_ip = 3")
    expect(limits.check("a", true, 1500)).toBe("connections_per_ip")
    expect(logs).toHaveLength(3)
    expect(logs[2]).toContain("1 more refused")
    limits.authenticated("a")
    limits.closed("a", true)
    expect(limits.check("a", false, 2000)).toBeUndefined()
    limits.closed("a", false)
    limits.closed("a", true)
    expect(limits.check("a", false, 2000)).toBeUndefined()
  })
})
