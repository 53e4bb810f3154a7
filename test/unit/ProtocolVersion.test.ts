/** The protocol rule (domain/ProtocolVersion.ts): same major, at most one minor apart; anything else is named. */
import { describe, expect, it } from "vitest"
import { incompatibility, PROTOCOL_VERSION } from "../../domain/ProtocolVersion.ts"

describe("protocol compatibility", () => {
  it("serves the same major version up to one minor version away, either way", () => {
    for (const client of ["1.4", "1.5", "1.6"]) expect(incompatibility(client, "1.5")).toBeUndefined()
    expect(incompatibility(PROTOCOL_VERSION)).toBeUndefined()
  })

  it("refuses another major version, two minor versions away, and what is not MAJOR.MINOR, saying which side to upgrade", () => {
    expect(incompatibility("2.5", "1.5")).toContain("another major version")
    expect(incompatibility("1.3", "1.5")).toContain("upgrade the client")
    expect(incompatibility("1.7", "1.5")).toContain("upgrade the node")
    for (const bad of ["", "1", "1.x", "1.2.3", " 1.2"]) expect(incompatibility(bad, "1.5")).toContain("not MAJOR.MINOR")
  })
})
