import { describe, expect, it } from "vitest"
import { addressKey } from "../../src/gateway/AddressKey.ts"
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

  it("keys IPv4 on the address, IPv6 on its /64 and IPv4-mapped IPv6 on the IPv4 address", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7")
    // uWS reports IPv6 fully expanded; compressed text keys the same.
    expect(addressKey("2001:0db8:0001:0002:0000:0000:0000:0001")).toBe("2001:db8:1:2::/64")
    expect(addressKey("2001:db8:1:2:ffff:1:2:3")).toBe("2001:db8:1:2::/64")
    expect(addressKey("2001:db8:1:2::9")).toBe("2001:db8:1:2::/64")
    expect(addressKey("2001:db8:1:3::9")).toBe("2001:db8:1:3::/64")
    expect(addressKey("::1")).toBe("0:0:0:0::/64")
    expect(addressKey("0000:0000:0000:0000:0000:ffff:cb00:7107")).toBe("203.0.113.7")
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7")
    expect(addressKey("::FFFF:203.0.113.7")).toBe("203.0.113.7")
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64")
    expect(addressKey("not:an::address::")).toBe("not:an::address::")
  })

  it("counts every address of one IPv6 /64 against one limit", () => {
    const limits = new ConnectionLimits({ maxPerIp: 2, maxUnauthenticatedPerIp: 2, logIntervalMs: 1000 }, () => {})
    limits.opened(addressKey("2001:db8::1"), true)
    limits.opened(addressKey("2001:db8::2"), true)
    expect(limits.check(addressKey("2001:db8::3"), true, 0)).toBe("connections_per_ip")
    expect(limits.check(addressKey("2001:db8:0:1::3"), true, 0)).toBeUndefined()
  })
})
